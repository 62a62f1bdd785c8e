"""The pinned artefacts of the anomaly-detection application's zip: the one place their versions and
checksums live. Read by tools/flink/build.py (``make flink-app``).

**JVM** (Maven Central): the connectors for Managed Flink's Flink 1.20 runtime (``FLINK-1_20``) and
the runtime dependencies they declare (``mvn dependency:tree`` of
``flink-connector-aws-kinesis-firehose:4.3.0-1.19``), less what the Flink runtime itself provides
(flink-core, flink-table-common and their dependencies, slf4j) and the Jackson artefacts nothing
in the closure loads (the AWS SDK uses its own relocated copy). The SHA-256 sums were computed from
the downloads; the SHA-1 sums are the ones Maven Central publishes beside each file (both are
verified on every fetch).

Why these versions: ``flink-connector-kinesis`` 4.3.0-1.19 is the newest Kinesis *source* with
enhanced fan-out that the registry this project's machines reach serves (5.x-1.20, with the new
``KinesisStreamsSource``, and 6.x-2.0 for Flink 2.x are not served there: checked by their POMs,
404). It runs on Flink 1.20 (the aws-samples Managed Flink Python examples pair 4.3.0-1.19
connectors with Flink 1.20). The legacy source it provides (a ``SourceFunction``) does not exist in
Flink 2.x, hence the 1.20 runtime. Moving to 2.2 means 6.x-2.0 connectors: change the pins here.

**One jar.** Managed Flink takes a single ``jarfile``, so build.py merges these jars into
``lib/anomaly-detection-connectors.jar`` (service files concatenated, licences kept per artefact,
signatures and module descriptors dropped). Four class files exist in two different copies:
``flink-connector-kinesis`` is shaded and carries its own build of four
``org.apache.flink.connector.aws`` classes compiled against its relocated AWS SDK, while
``flink-connector-aws-base`` (which the Firehose sink needs) has the same classes against the
plain SDK (and the SDK's ``mime.types`` resource differs between the two SDK versions). Only one
copy can load; :data:`DUPLICATE_WINNERS` keeps aws-base's. The method signatures of the two copies
are the same after erasure, so either links; the difference is inside:
``AWSExceptionClassifierUtil`` casts the exception it finds to the SDK's ``AwsServiceException``
of its own package. With aws-base's copy the Firehose sink classifies a fatal error by its code
(``AccessDeniedException`` fails the job at once, checked by tests/flink/test_package.py against a
stand-in Firehose); with the Kinesis jar's copy that cast fails and the sink hangs (tried by hand).
The Kinesis *source* and its table factory use only ``AWSOptionUtils`` (string options; the test
plans the source with it). The Kinesis *sink* would suffer the mirror image of the cast failure,
so the application does not use it (notifications go to SNS from Python, see
flink_apps/anomaly_detection/sns.py). The build fails on any other differing duplicate.

**Python** (PyPI wheels, pure Python): boto3 and what it needs beyond PyFlink's own dependencies,
for the SNS publisher; Managed Flink installs nothing with pip, so they travel in the zip.
"""

from __future__ import annotations

from dataclasses import dataclass

from tools.maven import Artifact

FLINK_RUNTIME = "FLINK-1_20"
#: The apache-flink release the local tests run on (requirements-flink.txt pins the same).
PYFLINK_VERSION = "1.20.5"


@dataclass(frozen=True)
class Wheel:
    name: str
    version: str
    file_name: str
    sha256: str
    size: int


def _jar(group: str, artifact_id: str, version: str, sha256: str, sha1: str, size: int) -> Artifact:
    return Artifact(group.replace(".", "/"), artifact_id, version, "jar", sha256, sha1, size)


JARS = (
    _jar("org.apache.flink", "flink-connector-kinesis", "4.3.0-1.19", "458071bc89150ebe541c19dda851f6d65c12909d42a778ba558630b6332b035b", "dd02d3f4f5d8cffd986ce0b99d651dbb9dbea2e9", 60_333_059),
    _jar("org.apache.flink", "flink-connector-aws-kinesis-firehose", "4.3.0-1.19", "af0c413152fcd2a469d17617dbe15f01ee8bdcd787e5d108111f36db4f26374d", "0984014b595f0e05cc9aae9aa434c51639f231a3", 35_285),
    _jar("org.apache.flink", "flink-connector-aws-base", "4.3.0-1.19", "e6dc168a86c57f5eef3f8fb8752fc92cfd9012ebb16ff6b93086142cf8cea3fe", "dee4e0e4226ab31af48dc5da64261ea15de71483", 31_104),
    _jar("software.amazon.awssdk", "apache-client", "2.20.144", "44dc55b45b42a76fead7e0ffece4e3da6c41320f3ef898cbd73da41ced352706", "f70c02a553b857861e1f38ba8580fec948b42f9c", 74_753),
    _jar("org.apache.httpcomponents", "httpclient", "4.5.13", "6fe9026a566c6a5001608cf3fc32196641f6c1e5e1986d1037ccdbd5f31ef743", "e5f6cae5ca7ecaac1ec2827a9e2d65ae2869cada", 780_321),
    _jar("commons-logging", "commons-logging", "1.2", "daddea1ea0be0f56978ab3006b8ac92834afeefbd9b7e4e6316fca57df0fa636", "4bfc12adfe4842bf07b657f0369c4cb522955686", 61_829),
    _jar("org.apache.httpcomponents", "httpcore", "4.4.13", "e06e89d40943245fcfa39ec537cdbfce3762aecde8f9c597780d2b00c2b43424", "853b96d3afbb7bf8cc303fe27ee96836a10c1834", 328_593),
    _jar("commons-codec", "commons-codec", "1.15", "b3e9f6d63a790109bf0d056611fbed1cf69055826defeb9894a71369d246ed63", "49d94806b6e3dc933dacbd8acb0fdbab8ebd1e5d", 353_793),
    _jar("software.amazon.awssdk", "sts", "2.20.144", "326e39d2fb3c65675b1a7b485297d5054fe8e1b3626fbdec98ee6917652b7efc", "2cb07340fc1a93f8af68e47a2b62da1885f756cf", 469_993),
    _jar("software.amazon.awssdk", "aws-query-protocol", "2.20.144", "5f8819d71a8614f006b23e7f39b921f353155ade01e68c2db3db82e551cf13a3", "ebdc1cc00e241173f98c2eeab42dc41a047231ed", 70_539),
    _jar("software.amazon.awssdk", "profiles", "2.20.144", "c3ac899dbb2eba41ec45289c37cbf64f86e27c94f75775b65b7295618f506e04", "11a519e3ddb38a1162273d54afd0e007d422278b", 49_384),
    _jar("software.amazon.awssdk", "firehose", "2.20.144", "e1a1af03253df9705b31c01760459f1b4c50664e9dcab1fe3c04df819ba829ef", "09d06cbfb3beeea507f417fe7686b66ac5614fe6", 1_061_621),
    _jar("software.amazon.awssdk", "aws-json-protocol", "2.20.144", "62c5b1f37ad777396eac2d1db4b7bc0654a5defd119243975159fe6b2468087e", "acfd0230b84973a4367fa1449b3d824017ef06a8", 114_713),
    _jar("software.amazon.awssdk", "third-party-jackson-core", "2.20.144", "bcd9425ebdc7df14632f69ae46b6429b2d85ba7cd46f4cbca5d85acac9aedc37", "6c8565a582553ff86a818de7a15efe2e04a1bf5c", 535_001),
    _jar("software.amazon.awssdk", "protocol-core", "2.20.144", "b8a548eb00406729a174d754ec43e07c1f7ccc551b24d0980d2469841044d76a", "6464bcd803ce06b848f9530e1cc58c5e19a5037a", 35_177),
    _jar("software.amazon.awssdk", "sdk-core", "2.20.144", "c6cefea305809a0a51c6ff3f33c1b36c807a7c8e5f72874cfb6660a58e4abbe2", "1a18e32e2d5e2836e4999732b2e6bb988f2a4ff3", 838_169),
    _jar("software.amazon.awssdk", "auth", "2.20.144", "9c5063684f0779425f2b38d589c1a4ea2c8b8c11a826ee59a992d9bd28d33d35", "f60123e5995ade328d82460eacd0bd584dc81bf0", 208_404),
    _jar("software.amazon.eventstream", "eventstream", "1.0.1", "0c37d8e696117f02c302191b8110b0d0eb20fa412fce34c3a269ec73c16ce822", "6ff8649dffc5190366ada897ba8525a836297784", 30_193),
    _jar("software.amazon.awssdk", "http-client-spi", "2.20.144", "59f3ea4cab0a41511b616b1f789e96166bd5eb6227dff0815d0e87cc287f9c02", "91e2d1978eca13cf15463586a35a220554c164f7", 81_263),
    _jar("software.amazon.awssdk", "regions", "2.20.144", "3c07bbc043da197198672ad604a34779e7220c463a4be8331ecc6910c47b61c6", "2e5bbc24cb4c503dae6d476236c221282dfdb5d5", 826_236),
    _jar("software.amazon.awssdk", "annotations", "2.20.144", "b3ac4639cc66b017cd7c3ce84d6be533a6162c8c97cb610bb8e2c4f957ce479f", "95deeb9f7809422a049dd9470acb8f5abe270356", 13_763),
    _jar("software.amazon.awssdk", "utils", "2.20.144", "cf41eb3d6d987f1e96d325b1685531ddcb3dfa30a7e5bea6002694f3341b67c7", "7e4f5ea5f0d84a3fa818144a73e3b45641f11ccf", 195_041),
    _jar("software.amazon.awssdk", "aws-core", "2.20.144", "e7836465f926ef4d6cd4903b65ba834247dbf47983cc014164affb66e05ac76d", "d0338e5da6e769ba2d8c7c37ee5593d0020a68cd", 152_521),
    _jar("software.amazon.awssdk", "metrics-spi", "2.20.144", "c6c36abbb1df12c7e14993d7df362b76d02714b6a217f2b87adcb2fbdad9a300", "6c591d8a9a37bd350818bea008f5e74a2cd90ce4", 27_287),
    _jar("software.amazon.awssdk", "json-utils", "2.20.144", "e84944f93529e6ded998b61f6cc3fbe5a8262d592fefad9e7ad2de16e225fcda", "b79c66c05de40e2aacbaab889ca49ff4024d5c49", 30_983),
    _jar("software.amazon.awssdk", "endpoints-spi", "2.20.144", "dc94c91ab8101ff4a45e410fb424e34a3e453319570b526e41001d22c06f7188", "58bc38ccfa56445438ef1f5fe6095e56f7da5d73", 13_157),
    _jar("software.amazon.awssdk", "netty-nio-client", "2.20.144", "63dd3fb0a81e15c10e4b4186f1c56a918d3b25c2b1b6cb08e10d2d302099e444", "47c1cafe9242b8f741b311de3e2445d338eccf20", 285_065),
    _jar("io.netty", "netty-codec-http", "4.1.94.Final", "1ada4580f68cd17a534fb3c0337087073223a76cb77304dbe5a1b19df3d53c2f", "9e5404764092c1f6305ad5719078f46ab228d587", 656_571),
    _jar("io.netty", "netty-codec-http2", "4.1.94.Final", "8fbd2e95abec6155b60ed3c9c1600ed4e17ffe3f053cd5a40677d879c0af961f", "f651595784d6cca4cbca6a8ad74c48fceed6cea8", 483_285),
    _jar("io.netty", "netty-codec", "4.1.94.Final", "91243776ad68b4d8e39eafb9ec115e1b8fa9aecd147b12ef15bb691639498328", "c70ef20ca338558147887df60f46341bc47f6900", 344_670),
    _jar("io.netty", "netty-transport", "4.1.94.Final", "a75afa84ca35a50225991b39e6b6278186e612f7a2a0c0e981de523aaac516a4", "ec783a737f96991a87b1d5794e2f9eb2024d708a", 488_739),
    _jar("io.netty", "netty-common", "4.1.94.Final", "cb8d84a3e63aea90d0d7a333a02e50ac751d2b05db55745d981b5eff893f647b", "ad4ecf779ebc794cd351f57792f56ea01387b868", 659_376),
    _jar("io.netty", "netty-buffer", "4.1.94.Final", "8066ee7c49f9f29da96ee62f7cb13bee022cb4b68e51437b33da3b6d01398f13", "eec248b26f16e888688e5bb37b7eeda76b78d2f7", 306_563),
    _jar("io.netty", "netty-handler", "4.1.94.Final", "8e50719a9ab89e33ef85c5f36d780e0d7056b3f768b07d261d87baed7094eb3c", "cd9121ce24d6d3f2898946d04b0ef3ec548b00b4", 554_796),
    _jar("io.netty", "netty-transport-native-unix-common", "4.1.94.Final", "27d0dff1cd743190279becacfb372fe4d45b266edafad9f1c6c01b04d00280eb", "3fa5f9d04b6b782d869d6e0657d896eeadca5866", 43_895),
    _jar("io.netty", "netty-transport-classes-epoll", "4.1.94.Final", "9d5d51eb42081d6fc13f4dca6855cd30d098a5b1d0b06d5644a1342bd1e50a44", "240e36cd5c2ffaf655913f8857f2d58b26394679", 145_249),
    _jar("io.netty", "netty-resolver", "4.1.94.Final", "bd26e9bc5e94e2d3974a93fdf921658eff4f033bfd4c5208607760ab54298617", "e96f649e8e9dcb29a1f8e95328b99c9eb6cf76c2", 37_791),
    _jar("org.reactivestreams", "reactive-streams", "1.0.4", "f75ca597789b3dac58f61857b9ac2e1034a68fa672db35055a8fb4509e325f28", "3864a1320d97d7b045f729a326e1e077661f31b7", 11_640),
)

#: Entries present in two differing copies, and the artefact whose copy the merged jar keeps.
DUPLICATE_WINNERS = {
    "org/apache/flink/connector/aws/sink/throwable/AWSExceptionClassifierUtil.class": "flink-connector-aws-base",
    "org/apache/flink/connector/aws/sink/throwable/AWSExceptionHandler.class": "flink-connector-aws-base",
    "org/apache/flink/connector/aws/table/util/AWSOptionUtils.class": "flink-connector-aws-base",
    "org/apache/flink/connector/aws/table/util/AsyncClientOptionsUtils.class": "flink-connector-aws-base",
    # The AWS SDK's table of file extensions to MIME types, in the shaded SDK (not relocated: a
    # resource) and in sdk-core 2.20.144; both SDK copies read the one that loads. Either serves.
    "mime.types": "sdk-core",
}

WHEELS = (
    Wheel("boto3", "1.44.5", "boto3-1.44.5-py3-none-any.whl", "70c3e0409794b29ec1900bcaff0695b73234a2d32ffaed35045b94caa26212a5", 140_158),
    Wheel("botocore", "1.44.18", "botocore-1.44.18-py3-none-any.whl", "300bc45095e810c5d915cefacdd6ea9ef786fe566aa4e221bf0449b4e0e95076", 17_501_549),
    Wheel("jmespath", "1.1.0", "jmespath-1.1.0-py3-none-any.whl", "a5663118de4908c91729bea0acadca56526eb2698e83de10cd116ae0f4e97c64", 20_419),
    Wheel("s3transfer", "0.19.3", "s3transfer-0.19.3-py3-none-any.whl", "24eb7535804306355e31c952a90022bf5b2f9d760f9a11062c7493a217c08553", 90_252),
    Wheel("urllib3", "2.8.0", "urllib3-2.8.0-py3-none-any.whl", "0cf3cae568d36aa9576b28dfb35f11328f1cb974ca7647d9475ebb86c75ac6e3", 135_717),
)
