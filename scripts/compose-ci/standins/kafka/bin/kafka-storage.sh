#!/bin/sh
# As Apache's bin/kafka-storage.sh (format, with --add-scram for SASL/SCRAM principals).
exec java -Xmx256m -Dlog4j.configuration=file:/opt/kafka/config/log4j.properties -cp "/opt/kafka/libs/*" kafka.tools.StorageTool "$@"
