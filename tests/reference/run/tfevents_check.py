#!/usr/bin/python3
"""Independent reader of a run's TensorBoard log (core/run/TensorBoardWriter.h), for the tests.

Reads every RUN/tb/*tfevents* file in name order (as TensorBoard does), parses the TFRecord framing
itself, checks both masked CRC32Cs of every record with its own table-driven CRC32C, decodes the
Event / Summary protocol buffers with python3-protobuf from core/run/proto/*.proto (compiled here by
protoc into a temporary folder), applies TensorBoard's restart rule (a SessionLog START that is not
the log's first drops the steps >= its step) and compares:
  - every scalar with metrics.sqlite's steps table: the same (tag, step) pairs, each value equal to
    the float32 rounding of the stored double (exactly);
  - every run event (events table; kinds other than log and plan) with a text summary of the text
    plugin under events/<kind> at its step.
Prints a JSON summary on success; exits 1 with the reason on stderr on any mismatch or corruption.

usage: tfevents_check.py RUN_DIR [--tb DIR]
"""
import argparse
import json
import os
import sqlite3
import struct
import subprocess
import sys
import tempfile

import numpy as np

SOURCE_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


def crc32c_table():
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


TABLE = crc32c_table()


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def masked(data):
    c = crc32c(data)
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def fail(msg):
    print("tfevents_check: " + msg, file=sys.stderr)
    sys.exit(1)


def load_protos(tmp):
    protos = ["core/run/proto/summary.proto", "core/run/proto/event.proto"]
    subprocess.run(["protoc", "--proto_path=" + SOURCE_DIR, "--python_out=" + tmp] + protos, check=True)
    sys.path.insert(0, tmp)
    from core.run.proto import event_pb2  # noqa: E402
    return event_pb2


def records(path):
    data = open(path, "rb").read()
    pos = 0
    while pos < len(data):
        if len(data) - pos < 12:
            fail("%s: torn record header at byte %d" % (path, pos))
        (length,) = struct.unpack_from("<Q", data, pos)
        (len_crc,) = struct.unpack_from("<I", data, pos + 8)
        if masked(data[pos:pos + 8]) != len_crc:
            fail("%s: length crc mismatch at byte %d" % (path, pos))
        start = pos + 12
        if len(data) - start < length + 4:
            fail("%s: torn record at byte %d" % (path, pos))
        payload = data[start:start + length]
        (data_crc,) = struct.unpack_from("<I", data, start + length)
        if masked(payload) != data_crc:
            fail("%s: data crc mismatch in the record at byte %d" % (path, pos))
        yield payload
        pos = start + length + 4


def event_text(kind, name, message):
    if kind == "state":
        return name + (": " + message if message else "")
    return message if message else name


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("run_dir")
    ap.add_argument("--tb", default=None)
    args = ap.parse_args()
    tb = args.tb or os.path.join(args.run_dir, "tb")
    files = sorted(f for f in os.listdir(tb) if "tfevents" in f) if os.path.isdir(tb) else []
    if not files:
        fail("%s: no event files" % tb)
    with tempfile.TemporaryDirectory() as tmp:
        event_pb2 = load_protos(tmp)
        scalars = {}  # tag -> {step: float32}
        texts = []  # (step, tag, text), before restarts drop any
        seen_start = False
        n_records = 0
        for f in files:
            path = os.path.join(tb, f)
            for i, payload in enumerate(records(path)):
                n_records += 1
                e = event_pb2.Event.FromString(payload)
                if i == 0:
                    if e.WhichOneof("what") != "file_version" or e.file_version != "brain.Event:2":
                        fail("%s: the first record is not file_version brain.Event:2" % path)
                    continue
                what = e.WhichOneof("what")
                if what == "session_log":
                    if e.session_log.status != event_pb2.SessionLog.START:
                        fail("%s: unexpected session_log status %d" % (path, e.session_log.status))
                    if seen_start:
                        for tag in scalars:
                            scalars[tag] = {s: v for s, v in scalars[tag].items() if s < e.step}
                    seen_start = True
                elif what == "summary":
                    for v in e.summary.value:
                        kind = v.WhichOneof("value")
                        if kind == "simple_value":
                            steps = scalars.setdefault(v.tag, {})
                            if e.step in steps:
                                fail("%s: '%s' at step %d written twice without a restart" % (path, v.tag, e.step))
                            steps[e.step] = np.float32(v.simple_value)
                        elif kind == "tensor":
                            if v.metadata.plugin_data.plugin_name != "text":
                                fail("%s: tensor '%s' is not a text summary" % (path, v.tag))
                            if v.tensor.dtype != 7 or len(v.tensor.string_val) != 1 or len(v.tensor.tensor_shape.dim) != 0:
                                fail("%s: text '%s' is not a scalar DT_STRING tensor" % (path, v.tag))
                            texts.append((e.step, v.tag, v.tensor.string_val[0].decode("utf-8")))
                        else:
                            fail("%s: unexpected summary value kind %s" % (path, kind))
                else:
                    fail("%s: unexpected event %s" % (path, what))

    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(args.run_dir, "metrics.sqlite"), uri=True)
    cur = db.execute("SELECT * FROM steps ORDER BY step")
    cols = [d[0] for d in cur.description]
    expected = {}
    for row in cur:
        r = dict(zip(cols, row))
        for c in cols:
            if c in ("step", "wall_time_s", "unix_time_s", "json") or r[c] is None:
                continue
            expected.setdefault(c, {})[r["step"]] = np.float32(r[c])
    got = {t: s for t, s in scalars.items() if s}
    if set(got) != set(expected):
        fail("tags differ: only in the log %s, only in metrics.sqlite %s"
             % (sorted(set(got) - set(expected)), sorted(set(expected) - set(got))))
    n_scalars = 0
    for tag, steps in expected.items():
        if set(steps) != set(got[tag]):
            fail("'%s': steps differ: log %s, metrics.sqlite %s" % (tag, sorted(got[tag]), sorted(steps)))
        for s, v in steps.items():
            if not (got[tag][s] == v):
                fail("'%s' step %d: log %r, metrics.sqlite %r (float32)" % (tag, s, got[tag][s], v))
            n_scalars += 1
    n_events = 0
    for step, kind, name, message in db.execute("SELECT step, kind, name, message FROM events ORDER BY id"):
        if kind in ("log", "plan"):
            continue
        want = (step, "events/" + kind, event_text(kind, name, message))
        if want not in texts:
            fail("event %r has no text summary in the log" % (want,))
        n_events += 1
    print(json.dumps({"files": len(files), "records": n_records, "tags": len(expected), "scalars": n_scalars,
                      "texts": len(texts), "events_matched": n_events,
                      "text_tags": sorted(set(t for _, t, _ in texts))}))


if __name__ == "__main__":
    main()
