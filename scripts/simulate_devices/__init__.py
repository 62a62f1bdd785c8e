"""The device simulator, becoming a package (issue 18): for now the whole of it is in
:mod:`.senders`, re-exported here so that ``scripts.simulate_devices.<name>`` keeps working."""

from .senders import *  # noqa: F401,F403
from .senders import telemetry_contract  # noqa: F401
