#!/bin/sh
# Run by the kafka-setup Job as admin, and safe to run again: the services' SCRAM credentials,
# the topics and the ACLs of the security design (who writes and reads which topic, each
# service only its own consumer group). Services never create topics here: they find them.
set -eu
bootstrap=kafka:9092
admin=/tmp/admin.properties
cat >"$admin" <<PROPERTIES
security.protocol=SASL_PLAINTEXT
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$KAFKA_ADMIN_PASSWORD";
PROPERTIES
bin=/opt/kafka/bin

until $bin/kafka-topics.sh --bootstrap-server $bootstrap --command-config "$admin" --list >/dev/null; do
  echo "waiting for the broker..."
  sleep 2
done

user() { # user NAME PASSWORD
  $bin/kafka-configs.sh --bootstrap-server $bootstrap --command-config "$admin" --alter \
    --entity-type users --entity-name "$1" --add-config "SCRAM-SHA-512=[password=$2]"
}
user order "$KAFKA_ORDER_PASSWORD"
user payment "$KAFKA_PAYMENT_PASSWORD"
user inventory "$KAFKA_INVENTORY_PASSWORD"

for topic in inventory.commands payment.commands inventory.replies payment.replies \
  inventory.decisions payment.decisions; do
  for name in "$topic" "$topic.dlq"; do
    $bin/kafka-topics.sh --bootstrap-server $bootstrap --command-config "$admin" --create \
      --if-not-exists --topic "$name" --partitions 3 --replication-factor 1
  done
done

acl() { # acl PRINCIPAL OPERATION --topic NAME | --group NAME
  $bin/kafka-acls.sh --bootstrap-server $bootstrap --command-config "$admin" --add \
    --allow-principal "User:$1" --operation "$2" "$3" "$4"
}
# A topic's reader also writes its dead-letter topic.
acl order Write --topic inventory.commands
acl order Write --topic payment.commands
acl order Read --topic inventory.replies
acl order Read --topic payment.replies
acl order Write --topic inventory.replies.dlq
acl order Write --topic payment.replies.dlq
acl inventory Read --topic inventory.commands
acl inventory Write --topic inventory.replies
acl inventory Write --topic inventory.commands.dlq
acl payment Read --topic payment.commands
acl payment Write --topic payment.replies
acl payment Write --topic payment.commands.dlq
# Two-phase commit's decisions: written by the coordinator, read by their participant.
acl order Write --topic inventory.decisions
acl order Write --topic payment.decisions
acl inventory Read --topic inventory.decisions
acl inventory Write --topic inventory.decisions.dlq
acl payment Read --topic payment.decisions
acl payment Write --topic payment.decisions.dlq
for service in order payment inventory; do
  acl "$service" Read --group "${KAFKA_GROUP_PREFIX}$service-service"
done
for service in payment inventory; do
  acl "$service" Read --group "${KAFKA_GROUP_PREFIX}$service-decisions"
done
echo "kafka-setup: users, topics and ACLs in place"
