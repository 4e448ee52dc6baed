"""leader.prepare from pandas DataFrames: the same dataset as the CLI/Trainer path on the same tables, whether the
frames come from CSV files or from a SQL database (sqlite3 here, standing in for any database pandas reads)."""
import sqlite3
import tempfile

import pandas as pd
import pytest

import leader
from conftest import ROOT

OMOP = ROOT / "Tests/LeaderCoreTests/Fixtures/omop"


def omop_frames():
    # pandas' own type inference: ids with gaps become float64 (101.0), dates stay strings
    return {p.stem: pd.read_csv(p) for p in sorted(OMOP.glob("*.csv"))}


def folder_dataset(tmp_path, source, folder, **extra):
    out = tmp_path / "folder.ldata"
    with leader.Trainer({"task": "prepare", "source": source, "input": str(folder), "out": str(out), **extra}) as job:
        job.run()
    return out.read_bytes()


def test_omop_frames_give_the_folders_dataset(tmp_path, monkeypatch):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    frames = omop_frames()
    assert frames["condition_occurrence"]["visit_occurrence_id"].dtype == "float64"   # the case the binding fixes
    events = []
    result = leader.prepare("omop", frames, tmp_path / "frames.ldata", progress=lambda e: events.append(e["stage"]))
    assert (tmp_path / "frames.ldata").read_bytes() == folder_dataset(tmp_path, "omop", OMOP)
    assert result["statistics"]["patients"] == 4 and "reading person" in events
    assert list(scratch.iterdir()) == []   # the CSV copies are gone


def test_frames_from_a_sql_database(tmp_path):
    db = sqlite3.connect(":memory:")
    for name, frame in omop_frames().items():
        frame.to_sql(name, db, index=False)
    frames = {name: pd.read_sql_query(f"SELECT * FROM {name}", db) for name in leader.TABLES["omop"]["required"]
              + ["concept_ancestor", "concept_relationship"]}
    leader.prepare("OMOP".lower(), {k.upper(): v for k, v in frames.items()}, tmp_path / "sql.ldata")
    assert (tmp_path / "sql.ldata").read_bytes() == folder_dataset(tmp_path, "omop", OMOP)


def test_mimic_frames_with_config(tmp_path, cohort_folder):
    frames = {p.stem: pd.read_csv(p, dtype=str, keep_default_na=False) for p in cohort_folder.glob("*.csv")}
    config = {"topMedications": 20}
    leader.prepare("mimic3", frames, tmp_path / "m.ldata", maps=cohort_folder / "maps", config=config)
    assert (tmp_path / "m.ldata").read_bytes() == folder_dataset(tmp_path, "mimic3", cohort_folder,
                                                                maps=str(cohort_folder / "maps"), config=config)


@pytest.fixture
def cohort_folder(tmp_path):
    """A small synthetic MIMIC-III folder written by the library (the prepare job with source synthetic)."""
    folder = tmp_path / "cohort"
    with leader.Trainer({"task": "prepare", "source": "synthetic", "patients": 60, "seed": 3, "input": str(folder),
                         "out": str(tmp_path / "synthetic.ldata")}) as job:
        job.run()
    return folder


def test_bad_tables_are_named(tmp_path):
    frames = omop_frames()
    with pytest.raises(leader.InvalidArgument, match="source 'fhir'"):
        leader.prepare("fhir", frames, tmp_path / "x.ldata")
    with pytest.raises(leader.InvalidArgument, match="table 'persons' is not a omop table"):
        leader.prepare("omop", {**frames, "persons": frames["person"]}, tmp_path / "x.ldata")
    with pytest.raises(leader.InvalidArgument, match="missing omop table\\(s\\) drug_exposure, concept"):
        leader.prepare("omop", {k: v for k, v in frames.items() if k not in ("drug_exposure", "concept")},
                       tmp_path / "x.ldata")
    with pytest.raises(leader.InvalidArgument, match="table 'person' is a dict, not a pandas DataFrame"):
        leader.prepare("omop", {**frames, "person": {}}, tmp_path / "x.ldata")
    # a bad value reaches the core loader, whose error names the table, line and column
    broken = {**frames, "person": frames["person"].astype({"person_id": str})}
    broken["person"].loc[1, "person_id"] = "not-an-id"
    with pytest.raises(leader.BadFile, match="person.csv: line 3, column 1 \\('person_id'\\): not an integer"):
        leader.prepare("omop", broken, tmp_path / "x.ldata")
    assert not (tmp_path / "x.ldata").exists()
