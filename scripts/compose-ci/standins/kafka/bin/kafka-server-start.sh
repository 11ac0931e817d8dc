#!/bin/sh
# As Apache's bin/kafka-server-start.sh: the broker in the foreground with the given properties.
exec java ${KAFKA_HEAP_OPTS:--Xmx1G -Xms1G} -XX:+UseG1GC -Djava.awt.headless=true \
  -Dlog4j.configuration=file:/opt/kafka/config/log4j.properties -cp "/opt/kafka/libs/*" kafka.Kafka "$@"
