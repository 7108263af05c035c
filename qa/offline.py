"""No connection to the outside: the libraries' calls home are switched off before they load.

Imported first by ``qa`` (and by ``app.py``), so the environment is set before
onnxruntime, gradio or huggingface_hub read it; each of them reads it once, when
it loads or starts. What each would send otherwise:

- onnxruntime (1.29 and later on Linux and macOS): usage events to
  mobile.events.data.microsoft.com, from a thread that starts about ten
  seconds after the first model is opened. ``disable_telemetry_events()``
  does not stop that thread; ORT_DISABLE_TELEMETRY=1, set before onnxruntime
  starts, does (no uploader, no device id written to disk).
- gradio: usage analytics and a version check when the chat starts.
- ray (`qa index --ray` only): usage statistics of each cluster this process starts, sent to
  usage-stats.ray.io, unless RAY_USAGE_STATS_ENABLED=0 (read by `ray.init` and `ray start`;
  a cluster started elsewhere keeps its own setting). With statistics off, a cluster of `ray
  start` still sends one "disabled" notice there, which RAY_USAGE_STATS_REPORT_URL, pointed at
  this machine's discard port, stops. Its dashboard process also asks the cloud metadata
  address (169.254.169.254, metadata.google.internal) which cloud it runs on, once, with no
  setting to stop it (Ray 2.60): a cluster Ray starts itself (`--ray local`, `ray start`) does.
- huggingface_hub: a request to the model hub for each model or tokenizer
  named by its hub id, and telemetry with downloads. The default model is
  built from weights installed with the project, so nothing needs the hub.

A value already set in the environment is kept: HF_HUB_OFFLINE=0 lets
``--model intfloat/multilingual-e5-small`` be downloaded where a hub is reachable.
"""

from __future__ import annotations

import os

OFFLINE_ENVIRONMENT = {
    "ORT_DISABLE_TELEMETRY": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "RAY_USAGE_STATS_ENABLED": "0",
    "RAY_USAGE_STATS_REPORT_URL": "http://127.0.0.1:9/",
}

for _name, _value in OFFLINE_ENVIRONMENT.items():
    os.environ.setdefault(_name, _value)
