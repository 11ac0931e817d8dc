#!/bin/sh
# The Kafka container's entry point in docker-compose.yml (apache/kafka's own entry point knows
# no SASL/SCRAM): fill the admin password into the broker's configuration (the Kubernetes dev
# overlay's server.properties, the same single node), format the storage the first time with
# every principal's SCRAM credentials (a KRaft broker takes them only then: they live in the
# metadata log), and run the broker in the foreground. Topics and ACLs come afterwards from
# the kafka-access step (scripts/infra/kafka-access.mjs).
set -eu
config=/tmp/server.properties
sed "s|@KAFKA_ADMIN_PASSWORD@|$KAFKA_ADMIN_PASSWORD|g" /etc/kafka-files/server.properties >"$config"
/opt/kafka/bin/kafka-storage.sh format --ignore-formatted --cluster-id "$KAFKA_CLUSTER_ID" \
  --config "$config" \
  --add-scram "SCRAM-SHA-512=[name=admin,password=$KAFKA_ADMIN_PASSWORD]" \
  --add-scram "SCRAM-SHA-512=[name=order,password=$KAFKA_ORDER_PASSWORD]" \
  --add-scram "SCRAM-SHA-512=[name=payment,password=$KAFKA_PAYMENT_PASSWORD]" \
  --add-scram "SCRAM-SHA-512=[name=inventory,password=$KAFKA_INVENTORY_PASSWORD]"
exec /opt/kafka/bin/kafka-server-start.sh "$config"
