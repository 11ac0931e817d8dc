#!/bin/sh
# The broker's entry point: fill the admin password into the configuration, format the storage
# the first time (adding admin's SCRAM credentials, which a KRaft broker can only be given
# before it first starts), then run the broker in the foreground.
set -eu
config=/tmp/server.properties
sed "s/@KAFKA_ADMIN_PASSWORD@/$KAFKA_ADMIN_PASSWORD/g" /etc/kafka-files/server.properties >"$config"
/opt/kafka/bin/kafka-storage.sh format --ignore-formatted --cluster-id "$KAFKA_CLUSTER_ID" \
  --config "$config" --add-scram "SCRAM-SHA-512=[name=admin,password=$KAFKA_ADMIN_PASSWORD]"
exec /opt/kafka/bin/kafka-server-start.sh "$config"
