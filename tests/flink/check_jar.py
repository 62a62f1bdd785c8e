"""Run in the Flink environment by test_package.py: the zip's merged jar, exercised in one JVM.

``python -m tests.flink.check_jar <jar> <properties.json>`` prints one JSON object:

* ``vertices``: the deployed job graph (Kinesis EFO source, detection, Firehose sink, SNS
  publisher) planned with the jar's connectors, without running it;
* ``refusal_without_consumer_arn``: what the Kinesis connector says about a source definition
  that lacks the consumer ARN (it must refuse: proof the option names reach the connector);
* ``round_trip`` and ``access_denied``: two bounded jobs writing through the deployed Firehose sink
  to a stand-in Firehose on 127.0.0.1.

The stand-in is a small HTTP server that answers the
Firehose ``PutRecordBatch`` call (JSON 1.1 protocol) and records what it receives, runs a bounded
job that writes lines through ``connectors.AwsSinks.anomalies`` (the deployed sink, newline
termination included) to it, and prints JSON: the delivery stream names and records the server
got. The first request is answered 503 ServiceUnavailableException, so the writer's error
classification runs: those are the classes the jar merge had to choose between (aws-base's
exception classifiers). It also exercises the AWS SDK's HTTP client in the jar.
"""

from __future__ import annotations

import base64
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from pyflink.common import Types
from pyflink.datastream import StreamExecutionEnvironment
from pyflink.table import StreamTableEnvironment

from flink_apps.anomaly_detection import connectors
from flink_apps.anomaly_detection.connectors import AwsSinks
from flink_apps.anomaly_detection.job import build_job
from flink_apps.anomaly_detection.properties import load_settings

RECEIVED: list[dict] = []
#: The first request is refused as a throttled service would: the sink must classify the error
#: (with the exception classifiers the merge chose) and send the batch again.
REFUSE_FIRST = {"pending": True}
#: In ``access-denied`` mode every request is answered AccessDeniedException (the role lacks
#: firehose:PutRecordBatch): a fatal error the writer recognises by its code, through
#: ``AWSExceptionClassifierUtil``, one of the classes the merge chose. With aws-base's copy the job
#: fails with "non-recoverable exception: AccessDeniedException"; with the Kinesis jar's copy
#: (compiled against the relocated SDK) the classification itself fails with a ClassCastException.
MODE = {"access_denied": False}


class FakeFirehose(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - the http.server hook
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        target = self.headers.get("X-Amz-Target", "")
        if MODE["access_denied"]:
            self._error(400, "AccessDeniedException", "User is not authorized to perform: firehose:PutRecordBatch")
            return
        refused = REFUSE_FIRST.pop("pending", False)
        RECEIVED.append({"target": target, "stream": body.get("DeliveryStreamName"), "refused": refused,
                         "records": [base64.b64decode(r["Data"]).decode() for r in body.get("Records", [])]})
        if refused:
            self._error(503, "ServiceUnavailableException", "Slow down.")
            return
        answer = json.dumps({"FailedPutCount": 0, "Encrypted": False,
                             "RequestResponses": [{"RecordId": str(i)} for i, _ in enumerate(body.get("Records", []))]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def _error(self, status: int, code: str, message: str) -> None:
        error = json.dumps({"__type": code, "message": message}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(error)))
        self.end_headers()
        self.wfile.write(error)

    def log_message(self, *args) -> None:
        pass


class LocalSettings:
    anomaly_region = "eu-west-1"
    anomaly_delivery_stream = "anomalies-local"


def firehose_job(jar: str, mode: str) -> dict:
    RECEIVED.clear()
    REFUSE_FIRST["pending"] = True
    MODE["access_denied"] = mode == "access-denied"
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeFirehose)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(1)
    env.set_python_executable(sys.executable)
    env.add_jars(Path(jar).resolve().as_uri())
    sinks = AwsSinks(LocalSettings())
    sinks.client_properties = {  # the deployed job uses the role's credentials and the real endpoint
        "aws.endpoint": endpoint,
        "aws.credentials.provider": "BASIC",
        "aws.credentials.provider.basic.accesskeyid": "local",
        "aws.credentials.provider.basic.secretkey": "local",
    }
    lines = [json.dumps({"record_type": "anomaly", "n": n}) for n in range(5)]
    sinks.anomalies(env.from_collection(lines, type_info=Types.STRING()))
    failure = ""
    try:
        env.execute("firehose round trip")
    except Exception as error:  # noqa: BLE001 - reported to the test
        failure = str(error)
    server.shutdown()
    causes = [line.strip() for line in failure.splitlines() if line.strip() and not line.strip().startswith(("at ", "..."))]
    return {"requests": list(RECEIVED), "failure": "\n".join(causes)[-4000:]}


def plan(jar: str, properties: str) -> dict:
    settings = load_settings(Path(properties))
    env = StreamExecutionEnvironment.get_execution_environment()
    env.add_jars(Path(jar).resolve().as_uri())
    build_job(env, settings)
    graph = env._generate_stream_graph(clear_transformations=False).getJobGraph()
    vertices = [v.getName() for v in graph.getVerticesSortedTopologicallyFromSources()]
    broken = StreamExecutionEnvironment.get_execution_environment()
    broken.add_jars(Path(jar).resolve().as_uri())
    tables = StreamTableEnvironment.create(broken)
    ddl = "\n".join(line for line in connectors.source_ddl(settings).splitlines() if "consumerarn" not in line)
    refusal = ""
    try:
        tables.execute_sql(ddl.replace(",\n)", "\n)"))
        tables.to_data_stream(tables.from_path(connectors.SOURCE_TABLE))
    except Exception as error:  # noqa: BLE001 - reported to the test
        refusal = str(error)
    messages = [line for line in refusal.splitlines() if "Exception:" in line and not line.strip().startswith("at ")]
    return {"vertices": vertices, "refusal_without_consumer_arn": "\n".join(messages)}


def main(jar: str, properties: str) -> None:
    result = plan(jar, properties)
    result["round_trip"] = firehose_job(jar, "refuse-first")
    result["access_denied"] = firehose_job(jar, "access-denied")
    print(json.dumps(result))


if __name__ == "__main__":
    main(*sys.argv[1:3])
