#!/bin/sh
# Temporal's time-skipping test server (the Java SDK's), from the jars dev/install.sh copied out of
# Maven Central into .tools/temporal-test-server; the workflow tests' TestWorkflowEnvironment runs it
# as `run.sh <port>`. The SDK gives it 5 s to listen, so the JVM starts lean: the client compiler
# only, and the class-data archive the install step recorded (TEMPORAL_TEST_SERVER_RECORD=1 records it).
home="$(cd "$(dirname "$0")/../.." && pwd)/.tools/temporal-test-server"
archive=""
if [ "${TEMPORAL_TEST_SERVER_RECORD:-}" = 1 ]; then
  archive="-XX:ArchiveClassesAtExit=$home/classes.jsa"
elif [ -f "$home/classes.jsa" ]; then
  archive="-XX:SharedArchiveFile=$home/classes.jsa"
fi
exec java $archive -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -cp "$home/lib/*" io.temporal.testserver.TestServer "$@"
