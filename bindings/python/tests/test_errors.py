"""Every status the binding can reach becomes its exception, carrying leader_last_error(); real bad inputs."""
import json
import re
import struct
from ctypes import byref, c_char_p, c_float, c_int32, c_int64

import numpy as np
import pytest

import leader
from leader import _capi

lib = _capi.lib


def rewrite_metadata(src, dst, **changes):
    """A copy of a safetensors checkpoint with __metadata__ entries replaced (tensors untouched)."""
    data = src.read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    header["__metadata__"].update(changes)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    dst.write_bytes(struct.pack("<Q", len(text)) + text + data[8 + n:])
    return dst


# -- model files ---------------------------------------------------------------------------------------------
def test_missing_file_is_io_failure(tmp_path):
    path = tmp_path / "nowhere.safetensors"
    with pytest.raises(leader.IOFailure,
                       match=re.escape('nowhere.safetensors: cannot open: No such file or directory')) as e:
        leader.Model.load(path)
    assert e.value.status == 2 and "nowhere.safetensors" in str(e.value)
    assert isinstance(e.value, OSError)


def test_garbage_file_is_bad_file(tmp_path):
    path = tmp_path / "garbage.safetensors"
    path.write_bytes(b"this is not a checkpoint at all, just words" * 10)
    with pytest.raises(leader.BadFile, match=r'garbage\.safetensors: header length: value \d+ exceeds the limit') as e:
        leader.Model.load(path)
    assert "garbage.safetensors" in str(e.value)


def test_truncated_checkpoint_is_bad_file(tmp_path, checkpoint):
    path = tmp_path / "truncated.safetensors"
    path.write_bytes(checkpoint.read_bytes()[:-100])
    with pytest.raises(leader.BadFile,
                       match=r'truncated\.safetensors: tensors need \d+ data bytes but the file has \d+ \(truncated\?\)'):
        leader.Model.load(path)


def test_other_format_version_is_incompatible(tmp_path, checkpoint):
    path = rewrite_metadata(checkpoint, tmp_path / "v99.safetensors", format_version="99")
    with pytest.raises(leader.Incompatible,
                       match=re.escape("v99.safetensors: checkpoint format_version '99' (this library reads '1')")):
        leader.Model.load(path)
    same = rewrite_metadata(checkpoint, tmp_path / "same.safetensors")    # the rewrite itself is harmless
    leader.Model.load(same).close()


def test_null_path_is_invalid_argument():
    out = _capi.model_p()
    with pytest.raises(leader.InvalidArgument, match=re.escape('leader_model_load: path is NULL')):
        lib.leader_model_load(None, byref(out))
    assert not out
    assert _capi.last_error() != ""


# -- sessions ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("options, message", [
    ({"precision": "fp64"}, "session options: precision 'fp64' (expected fp32, bf16 or auto)"),
    ({"threads": -3}, "session options: threads must be 0 or 1...1024, got -3"),
    ({"colour": "blue"}, "session options: unknown key 'colour'"),
    ({"historyVisits": -1}, "session options: historyVisits -1 (expected 0...100000)"),
])
def test_bad_session_options_are_invalid_argument(model, options, message):
    with pytest.raises(leader.InvalidArgument, match=re.escape("leader_session_create: " + message)):
        leader.Session(model, options)


def test_bad_session_json_is_invalid_argument(model):
    out = _capi.session_p()
    with pytest.raises(leader.InvalidArgument, match=re.escape('leader_session_create: session options: invalid JSON')):
        lib.leader_session_create(model._handle, b"{not json", byref(out))


def test_bad_recommend_arguments(model, patients):
    with model.session() as s:
        with pytest.raises(leader.InvalidArgument, match=re.escape('recommend: top_k -1 < 0')):
            s.recommend(patients[0], top_k=-1)
        with pytest.raises(leader.InvalidArgument, match=re.escape('recommend: threshold 1.5 (expected <= 1)')):
            s.recommend(patients[0], threshold=1.5)
        with pytest.raises(leader.InvalidArgument,
                           match=re.escape('a patient needs at least one visit (the current one)')):
            s.recommend({"visits": []})
        with pytest.raises(leader.InvalidArgument,
                           match=re.escape("visit 0: unknown keys ['diagnosis']; a visit holds ['diagnoses', 'procedures', 'medications']")):
            s.recommend({"visits": [{"diagnosis": ["x"]}]})      # misspelt key: not silently ignored
        with pytest.raises(leader.InvalidArgument,
                           match=re.escape("medication 'not-a-medication' is not in the model's vocabulary")):
            s.explain(patients[0], "not-a-medication")


def _offsets(*values):
    return (c_int64 * len(values))(*values)


def _strings(*codes):
    return (c_char_p * max(len(codes), 1))(*[c.encode() for c in codes])


def test_bad_offsets_and_ids_from_the_c_layer(model):
    d = model.diagnoses.code[0]
    n, nu = c_int64(), c_int64()
    ids = (c_int32 * 8)()
    scores = (c_float * 8)()
    with model.session() as s:
        h = s._handle
        with pytest.raises(leader.InvalidArgument,
                           match=re.escape('leader_session_recommend: diagnosis_offsets[2] = 0 < diagnosis_offsets[1] = 1')):   # offsets going backwards
            lib.leader_session_recommend(h, 2, _offsets(0, 1, 0), _strings(d), _offsets(0, 0, 0), _strings(),
                                         None, None, 0, _strings(), _strings(), 0, 0.0, ids, scores, None, 8, byref(n),
                                         None, 0, byref(nu))
        with pytest.raises(leader.InvalidArgument,
                           match=re.escape('leader_session_recommend: n_visits 0 < 1')):   # no visits
            lib.leader_session_recommend(h, 0, _offsets(0), _strings(), _offsets(0), _strings(),
                                         None, None, 0, _strings(), _strings(), 0, 0.0, ids, scores, None, 8, byref(n),
                                         None, 0, byref(nu))
        bad = (c_int32 * 1)(len(model.diagnoses) + 5)   # an id out of range is an error on the id path
        with pytest.raises(leader.InvalidArgument, match=r'patient: diagnosis id \d+ outside the vocabulary of \d+'):
            lib.leader_session_recommend_ids(h, 1, _offsets(0, 1), bad, _offsets(0, 0), (c_int32 * 1)(),
                                             None, None, 0, (c_int32 * 1)(), 0, 0.0, ids, scores, None, 8, byref(n))
        pos = (c_int64 * 4)()
        contrib = (c_float * 4)()
        with pytest.raises(leader.InvalidArgument,
                           match=r'explain: medication id (\d+) outside the vocabulary of \1'):   # medication id out of range
            lib.leader_session_explain(h, 1, _offsets(0, 1), _strings(d), _offsets(0, 0), _strings(), None, None,
                                       0, _strings(), _strings(), model.n_medications, None, pos, contrib, 4, byref(n))


def test_buffer_too_small_reports_the_needed_count(model):
    d = model.diagnoses.code[:3].tolist()
    n, nu = c_int64(-1), c_int64()
    ids = (c_int32 * 1)()
    scores = (c_float * 1)()
    with model.session() as s:
        with pytest.raises(leader.BufferTooSmall,
                           match=r'leader_session_recommend: (\d+) results do not fit in capacity 1 \(needed \1\)') as e:
            lib.leader_session_recommend(s._handle, 1, _offsets(0, 3), _strings(*d), _offsets(0, 0), _strings(),
                                         None, None, 0, _strings(), _strings(), 0, 0.0, ids, scores, None, 1, byref(n),
                                         None, 0, byref(nu))
        assert e.value.status == 6
        assert n.value == model.n_medications          # top_k 0, threshold 0: every medication
        # the batch call: capacity below n_patients x n_medications
        out = np.zeros(model.n_medications, dtype=np.float32)
        with pytest.raises(leader.BufferTooSmall,
                           match=r'leader_session_score_batch: 2 patients need (\d+) scores, capacity \d+ \(needed \1\)'):
            lib.leader_session_score_batch(s._handle, 2, _offsets(0, 1, 2), _offsets(0, 1, 2), _strings(d[0], d[1]),
                                           _offsets(0, 0, 0), _strings(), None, None, None, None, None,
                                           out.ctypes.data_as(_capi.c_float_p), out.size, None)
        # explain: capacity 1 for three known codes
        pos, contrib = (c_int64 * 1)(), (c_float * 1)()
        with pytest.raises(leader.BufferTooSmall,
                           match=re.escape('leader_session_explain: 3 results do not fit in capacity 1 (needed 3)')):
            lib.leader_session_explain(s._handle, 1, _offsets(0, 3), _strings(*d), _offsets(0, 0), _strings(),
                                       None, None, 0, _strings(), _strings(), 0, None, pos, contrib, 1, byref(n))
        assert n.value == 3


def test_closed_handles_raise_instead_of_crashing(checkpoint, patients):
    m = leader.Model.load(checkpoint)
    s = m.session()
    s.close()
    with pytest.raises(leader.InvalidArgument, match="closed"):
        s.recommend(patients[0])
    m.close()
    with pytest.raises(leader.InvalidArgument, match="closed"):
        m.session()
    with pytest.raises(leader.InvalidArgument, match="closed"):
        m.code_id("diagnosis", "x")


# -- trainer ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("config, message", [
    ("{not json", "trainer config: invalid JSON"),
    ('{"task": "juggle"}', "trainer config: unknown task 'juggle' (one of prepare, student, evaluate, "
                           "teacher-train, teacher-export, pipeline)"),
    ('{"task": "prepare", "source": "synthetic", "patients": 10, "out": "x.ldata", "colour": "blue"}',
     "prepare job: unknown key 'colour'"),
    ('{"task": "student", "data": "x.ldata", "out": "s.safetensors", "config": {"epochs": "many"}}',
     "student job: wrong type at 'config.epochs'"),
    ('{"task": "student", "data": "x.ldata", "out": "s.safetensors", "config": {"epochz": 2}}',
     "student config: unknown key 'epochz'"),
    ('{"task": "teacher-train", "data": "x.ldata", "model": "m.gguf", "out": "t.safetensors", "config": {"rank": "x"}}',
     "teacher train config: unknown key 'rank'"),
    ('{"task": "teacher-export", "data": "x.ldata"}', "teacher-export job: missing key 'teacher'"),
    ("[1, 2]", "trainer config: wrong type at ''"),
])
def test_bad_trainer_configs_are_invalid_argument(config, message):
    with pytest.raises(leader.InvalidArgument, match=re.escape("leader_trainer_create: " + message)):
        leader.Trainer(config)


def test_out_of_range_config_value_is_invalid_argument(tmp_path, cohort):
    """Refused when the job is made or, at the latest, when it runs, before anything is written."""
    out = tmp_path / "s.safetensors"
    with pytest.raises(leader.InvalidArgument, match="epochs"):
        with leader.Trainer({"task": "student", "data": str(cohort), "out": str(out),
                             "config": {"epochs": -1}}) as job:
            job.run()
    assert not out.exists()


def test_trainer_missing_input_is_io_failure(tmp_path):
    job = leader.Trainer({"task": "evaluate", "data": str(tmp_path / "missing.ldata"), "baseline": "frequency"})
    with pytest.raises(leader.IOFailure, match="missing.ldata"):
        job.run()
    with pytest.raises(leader.InvalidArgument,
                       match=re.escape('leader_trainer_result_json: the trainer has no successful run yet')):   # no successful run yet
        job.result
    job.close()


def test_trainer_garbage_dataset_is_bad_file(tmp_path):
    data = tmp_path / "garbage.ldata"
    data.write_bytes(b"\x00garbage" * 100)
    with leader.Trainer({"task": "evaluate", "data": str(data), "baseline": "frequency"}) as job:
        with pytest.raises(leader.BadFile, match=re.escape('garbage.ldata: not a leader data file (bad magic)')):
            job.run()


def test_trainer_checkpoint_of_another_format_is_incompatible(tmp_path, cohort, checkpoint):
    bad = rewrite_metadata(checkpoint, tmp_path / "v99.safetensors", format_version="99")
    with leader.Trainer({"task": "evaluate", "data": str(cohort), "checkpoint": str(bad)}) as job:
        with pytest.raises(leader.Incompatible,
                           match=re.escape("v99.safetensors: checkpoint format_version '99' (this library reads '1')")):
            job.run()


def test_messages_never_echo_patient_codes(model):
    secret = "SECRET-CODE-4711"
    with model.session() as s:
        with pytest.raises(leader.InvalidArgument, match=re.escape('recommend: top_k -5 < 0')) as e:
            lib.leader_session_recommend(s._handle, 1, _offsets(0, 2), _strings(secret, secret), _offsets(0, 0),
                                         _strings(), None, None, 0, _strings(), _strings(), -5, 0.0, (c_int32 * 1)(),
                                         (c_float * 1)(), None, 1, byref(c_int64()), None, 0, None)
    assert secret not in str(e.value)


def test_error_classes_are_also_builtin_errors():
    assert issubclass(leader.InvalidArgument, ValueError)
    assert issubclass(leader.IOFailure, OSError)
    assert issubclass(leader.OutOfMemory, MemoryError)
    assert issubclass(leader.Overflow, OverflowError)
    assert all(issubclass(c, leader.LeaderError) for c in leader.errors.ERRORS)
