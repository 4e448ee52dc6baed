"""Model and Session: vocabularies, one patient, many patients, threads, lifetimes."""
import gc
import re
import threading
from ctypes import c_char_p, c_int64

import numpy as np
import pandas as pd
import pytest

import leader
from helpers import UNKNOWN, random_patients, to_frames
from leader import _capi


# -- the model --------------------------------------------------------------------------------------------
def test_info_and_vocabularies(model):
    info = model.info
    for key in ("config", "vocabularies", "profile", "thresholds", "metrics", "provenance"):
        assert key in info, key
    meds = model.medications
    assert list(meds.columns) == ["id", "code", "title"]
    assert len(meds) == model.n_medications == model.vocabulary_size("medication") > 0
    assert len(model.diagnoses) == model.vocabulary_size(leader.KINDS["diagnosis"]) > 0
    assert len(model.procedures) == model.vocabulary_size("procedures") > 0
    assert 0 < model.threshold < 1
    assert model.profile_fields == [f["name"] for f in info["profile"]["fields"]]


def test_code_lookups_agree_with_the_vocabulary_frames(model):
    for kind, frame in (("diagnosis", model.diagnoses), ("procedure", model.procedures),
                        ("medication", model.medications)):
        for i in (0, len(frame) // 2, len(frame) - 1):
            code, title = model.code(kind, i)
            assert (code, title) == (frame.code[i], frame.title[i])
            assert model.code_id(kind, code) == i
        assert model.code_id(kind, "no-such-code") == -1
    with pytest.raises(leader.InvalidArgument, match=r'leader_model_code: id (\d+) outside the vocabulary of \1'):
        model.code("medication", model.n_medications)
    with pytest.raises(leader.InvalidArgument,
                       match=re.escape("unknown code kind 'symptom'; use one of ['diagnosis', 'medication', 'procedure']")):
        model.code_id("symptom", "x")


# -- one patient --------------------------------------------------------------------------------------------
def test_recommend_is_sorted_and_respects_top_k_and_threshold(model, patients):
    with model.session() as s:
        full = s.recommend(patients[0], top_k=0, threshold=0)
        assert list(full.columns) == ["rank", "medication", "title", "score"]
        assert len(full) == model.n_medications
        assert full["rank"].tolist() == list(range(1, len(full) + 1))
        assert (np.diff(full.score.to_numpy()) <= 0).all()
        assert full.score.between(0, 1).all()
        top3 = s.recommend(patients[0], top_k=3, threshold=0)
        pd.testing.assert_frame_equal(top3, full.head(3))
        default = s.recommend(patients[0])                   # the checkpoint's threshold, no limit
        assert (default.score >= np.float32(model.threshold)).all()
        assert len(default) == (full.score >= np.float32(model.threshold)).sum()
        assert s.recommend(patients[0], threshold=1.0).score.ge(1.0).all()


def test_fast_result_frames_equal_what_pandas_makes(model, patients):
    from leader import _fastframe
    with model.session() as s:
        got = s.recommend(patients[0], top_k=5, threshold=0)
        assert _fastframe._fast == {"arrays": True, "blocks": True}, "the fast paths fell back on this pandas"
        reference = _fastframe.public_frame({c: got[c].to_numpy() for c in got.columns})
        pd.testing.assert_frame_equal(got, reference)
        empty = s.recommend(patients[0], threshold=1.0)
        pd.testing.assert_frame_equal(empty, got.iloc[:0].reset_index(drop=True), check_index_type=False)
        got.loc[0, "score"] = 7.0             # the frame owns its arrays: editing it changes nothing else
        got.loc[1, "medication"] = "edited"
        again = s.recommend(patients[0], top_k=5, threshold=0)
        pd.testing.assert_frame_equal(again, reference)
        batch = s.recommend_batch(to_frames(patients[:3])[0], top_k=2)
        pd.testing.assert_frame_equal(batch, _fastframe.public_frame({c: batch[c].to_numpy() for c in batch.columns}))


def test_unknown_codes_are_skipped_and_reported(model):
    d = model.diagnoses.code.tolist()
    patient = {"visits": [{"diagnoses": [d[0], UNKNOWN["diagnoses"]], "medications": [UNKNOWN["medications"]]},
                          {"diagnoses": [d[1], UNKNOWN["diagnoses"]], "procedures": [UNKNOWN["procedures"]]}],
               "profile": {"no-such-field": "x"}}
    known = {"visits": [{"diagnoses": [d[0]]}, {"diagnoses": [d[1]]}]}
    with model.session() as s:
        got = s.recommend(patient, top_k=0, threshold=0)
        unknown = got.attrs["unknown"]
        assert unknown.kind.tolist() == ["diagnosis", "diagnosis", "procedure", "medication", "profile"]
        assert unknown.visit.tolist() == [0, 1, 1, 0, -1]
        assert unknown.code.tolist()[:4] == [UNKNOWN["diagnoses"]] * 2 + [UNKNOWN["procedures"], UNKNOWN["medications"]]
        plain = s.recommend(known, top_k=0, threshold=0)
        assert plain.attrs["unknown"] is None
        np.testing.assert_array_equal(got.score.to_numpy(), plain.score.to_numpy())


def test_explain(model, patients):
    with model.session() as s:
        top = s.recommend(patients[1], top_k=1, threshold=0)
        med = top.medication[0]
        why = s.explain(patients[1], med)
        assert list(why.columns) == ["kind", "code", "title", "visit", "contribution"]
        assert why.attrs["medication"] == med
        assert why.attrs["score"] == pytest.approx(float(top.score[0]), abs=0)
        assert (np.diff(why.contribution.to_numpy()) <= 0).all()
        assert set(why.kind) <= {"diagnosis", "procedure", "medication", "profile"}
        assert UNKNOWN["diagnoses"] not in set(why.code)
        by_id = s.explain(patients[1], int(model.medication_id(med)))
        pd.testing.assert_frame_equal(why, by_id)
        # occlusion: removing the top diagnosis changes the score by (about) its contribution
        diag = why[why.kind == "diagnosis"].iloc[0]
        p = {"visits": [{k: [c for c in v if not (k == "diagnoses" and i == diag.visit and c == diag.code)]
                         for k, v in visit.items()} for i, visit in enumerate(patients[1]["visits"])],
             "profile": patients[1]["profile"]}
        without = s.recommend(p, top_k=0, threshold=0).set_index("medication").score[med]
        assert why.attrs["score"] - without == pytest.approx(diag.contribution, abs=1e-6)


# -- many patients ------------------------------------------------------------------------------------------
def _one_by_one(session, patients):
    rows = []
    for p in patients:
        r = session.recommend(p, top_k=0, threshold=0)
        row = np.empty(session.model.n_medications, dtype=np.float32)
        row[[session.model.medication_id(m) for m in r.medication]] = r.score.to_numpy()
        rows.append(row)
    return np.stack(rows)


def test_batch_equals_one_by_one_bitwise(model, patients):
    events, profile = to_frames(patients)
    with model.session(threads=2) as s:
        batch = s.scores(events, profile)
        serial = _one_by_one(s, patients)
    assert list(batch.index) == list(range(len(patients)))
    assert list(batch.columns) == model.medications.code.tolist()
    assert batch.dtypes.unique().tolist() == [np.float32]
    np.testing.assert_array_equal(batch.to_numpy(), serial)
    assert batch.attrs["unknown"] > 0


def test_batch_ids_path_equals_the_c_string_batch(model, patients):
    """The vectorised id mapping gives the library's own string mapping, bit for bit."""
    events, profile = to_frames(patients)
    with model.session() as s:
        mine = s.scores(events, profile).to_numpy()
        visit_offsets, offs, strs = [0], {k: [0] for k in ("diagnoses", "procedures", "medications")}, \
            {k: [] for k in ("diagnoses", "procedures", "medications")}
        prof_off, keys, values = [0], [], []
        for p in patients:
            for visit in p["visits"]:
                for k in offs:
                    strs[k] += visit.get(k, [])
                    offs[k].append(len(strs[k]))
            visit_offsets.append(visit_offsets[-1] + len(p["visits"]))
            keys += list(p["profile"])
            values += list(p["profile"].values())
            prof_off.append(len(keys))
        arr = lambda xs: (c_int64 * len(xs))(*xs)
        cs = lambda xs: (c_char_p * max(len(xs), 1))(*[x.encode() for x in xs])
        out = np.empty((len(patients), model.n_medications), dtype=np.float32)
        n_unknown = c_int64()
        _capi.lib.leader_session_score_batch(
            s._handle, len(patients), arr(visit_offsets),
            arr(offs["diagnoses"]), cs(strs["diagnoses"]), arr(offs["procedures"]), cs(strs["procedures"]),
            arr(offs["medications"]), cs(strs["medications"]), arr(prof_off), cs(keys), cs(values),
            out.ctypes.data_as(_capi.c_float_p), out.size, n_unknown)
    np.testing.assert_array_equal(mine, out)


def test_recommend_batch_equals_recommend(model, patients):
    events, profile = to_frames(patients)
    with model.session() as s:
        batch = s.recommend_batch(events, profile, top_k=5)
        assert list(batch.columns) == ["patient", "rank", "medication", "title", "score"]
        for pid in (0, 7, len(patients) - 1):
            one = s.recommend(patients[pid], top_k=5)
            got = batch[batch.patient == pid].drop(columns="patient").reset_index(drop=True)
            pd.testing.assert_frame_equal(got, one, check_dtype=False)


def test_table_order_and_profile_columns_do_not_matter(model, patients):
    events, profile = to_frames(patients, ids=[f"p{i:03d}" for i in range(len(patients))])
    with model.session() as s:
        reference = s.scores(events, profile)
        shuffled = events.sample(frac=1.0, random_state=5)
        got = s.scores(shuffled, profile.sample(frac=1.0, random_state=6)).loc[reference.index]
        np.testing.assert_array_equal(got.to_numpy(), reference.to_numpy())
        # profile fields as columns of the events table
        wide = events.merge(profile, on="patient", how="left")
        np.testing.assert_array_equal(s.scores(wide).to_numpy(), reference.to_numpy())
        # categorical columns, string visits that sort like the numbers, plural kind names
        cat = events.assign(code=events.code.astype("category"), patient=events.patient.astype("category"),
                            visit=events.visit.map(lambda v: f"v{v:02d}"),
                            kind=events.kind.map({"diagnosis": "diagnoses", "procedure": "procedures",
                                                  "medication": "medications"}))
        np.testing.assert_array_equal(s.scores(cat, profile).to_numpy(), reference.to_numpy())
        # dates as visits
        dated = events.assign(visit=pd.Timestamp("2020-01-01") + pd.to_timedelta(events.visit * 30, unit="D"))
        np.testing.assert_array_equal(s.scores(dated, profile).to_numpy(), reference.to_numpy())


def test_bad_tables(model):
    with model.session() as s:
        with pytest.raises(leader.InvalidArgument, match="missing columns"):
            s.scores(pd.DataFrame({"patient": [1], "code": ["x"]}))
        with pytest.raises(leader.InvalidArgument, match="kind"):
            s.scores(pd.DataFrame({"patient": [1], "visit": [0], "kind": ["symptom"], "code": ["x"]}))
        empty = s.scores(pd.DataFrame(columns=["patient", "visit", "kind", "code"]))
        assert empty.shape == (0, model.n_medications)


def test_history_window_and_precision_options(model, patients):
    long = {"visits": [v for p in patients[:4] for v in p["visits"]], "profile": {}}
    last_two = {"visits": long["visits"][-2:], "profile": {}}
    with model.session(history_visits=1) as s1, model.session() as s:
        a = s1.recommend(long, top_k=0, threshold=0)
        b = s.recommend(last_two, top_k=0, threshold=0)
        pd.testing.assert_frame_equal(a, b)
    with model.session(precision="auto") as auto:
        r = auto.recommend(patients[0], top_k=0, threshold=0)
        assert len(r) == model.n_medications


# -- threads ---------------------------------------------------------------------------------------------
def test_eight_threads_serving_one_model_match_serial_bitwise(model):
    patients = random_patients(model, 40, seed=11)
    events, profile = to_frames(patients)
    with model.session() as s:
        serial_one = _one_by_one(s, patients)
        serial_batch = s.scores(events, profile).to_numpy()
    results, errors = {}, []
    start = threading.Barrier(8)

    def serve(t):
        try:
            with model.session(threads=1 + t % 2) as mine:
                start.wait()
                for _ in range(3):
                    one = _one_by_one(mine, patients)
                    batch = mine.scores(events, profile).to_numpy()
                    results.setdefault(t, []).append((one, batch))
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=serve, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(results) == 8
    for runs in results.values():
        for one, batch in runs:
            assert one.tobytes() == serial_one.tobytes()
            assert batch.tobytes() == serial_batch.tobytes()


def test_one_session_shared_by_threads_is_serialised(model, patients):
    """Sharing a session is misuse in C; the Python Session locks, so it is only slower, never wrong."""
    with model.session() as s:
        expected = [s.recommend(p, top_k=0, threshold=0).score.to_numpy() for p in patients[:10]]
        got = [None] * 10

        def work(i):
            got[i] = s.recommend(patients[i], top_k=0, threshold=0).score.to_numpy()
        threads = [threading.Thread(target=work, args=(i,)) for i in range(10)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    for a, b in zip(expected, got):
        assert a.tobytes() == b.tobytes()


# -- lifetimes ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("order", ["model-first", "session-first", "gc"])
def test_double_close_and_any_free_order(checkpoint, patients, order):
    m = leader.Model.load(checkpoint)
    s1, s2 = m.session(), m.session()
    expected = s1.recommend(patients[0], top_k=0, threshold=0)
    if order == "model-first":
        m.close()
        m.close()
        pd.testing.assert_frame_equal(s1.recommend(patients[0], top_k=0, threshold=0), expected)
        s1.close()
        pd.testing.assert_frame_equal(s2.recommend(patients[0], top_k=0, threshold=0), expected)
        s2.close()
        s2.close()
    elif order == "session-first":
        s1.close()
        s2.close()
        s1.close()
        m.close()
        m.close()
    else:
        del m
        gc.collect()
        pd.testing.assert_frame_equal(s2.recommend(patients[0], top_k=0, threshold=0), expected)
        del s1, s2
        gc.collect()


def test_context_managers(checkpoint, patients):
    with leader.Model.load(checkpoint) as m:
        with m.session() as s:
            assert not s.closed
            s.recommend(patients[0])
        assert s.closed
    assert m.closed
    assert "closed" in repr(m)


def test_ddi_filter_drops_the_lower_scored_drug_of_an_interacting_pair(model, patients, tmp_path):
    patient = patients[0]
    with model.session() as plain:
        full = plain.recommend(patient, threshold=0)
    first, second = full.medication[0], full.medication[1]
    pairs = tmp_path / "ddi.csv"
    pairs.write_text(f"atc3_a,atc3_b\n{first},{second}\n")
    with model.session(ddi_filter=pairs) as safe:
        kept = safe.recommend(patient, threshold=0)
    assert list(kept.medication) == [first] + list(full.medication[2:])
    assert np.array_equal(kept.score.to_numpy(), np.concatenate([full.score.to_numpy()[:1], full.score.to_numpy()[2:]]))
    with pytest.raises(leader.IOFailure, match=re.escape('missing.csv: cannot open (No such file or directory)')):
        model.session(ddi_filter=tmp_path / "missing.csv")
