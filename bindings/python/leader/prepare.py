"""leader.prepare: a prepared dataset from tables that already sit in pandas (read from any database or file).

    import leader, pandas as pd, sqlalchemy
    engine = sqlalchemy.create_engine("postgresql://…")
    tables = {name: pd.read_sql_table(name, engine, schema="cdm") for name in leader.TABLES["omop"]}
    result = leader.prepare("omop", tables, "cohort.ldata", config={"minPatients": 100})

The DataFrames go through the library's own loader, exactly as `leader prepare --input DIR` reads a folder: each
is written as CSV into a private temporary folder (removed afterwards, whatever happens) and the core prepare job
reads it. Float columns that hold only whole numbers (pandas' way of storing integer ids that have NULLs) are
written as integers, so `101.0` does not become an unparsable id.
"""
import os
import tempfile

import pandas as pd

from .errors import InvalidArgument
from .trainer import Trainer

#: The tables each source needs (required) and may use (optional), by their standard names.
TABLES = {
    "mimic3": {"required": ["PATIENTS", "ADMISSIONS", "DIAGNOSES_ICD", "PROCEDURES_ICD", "PRESCRIPTIONS",
                            "D_ICD_DIAGNOSES", "D_ICD_PROCEDURES"], "optional": []},
    "mimic4": {"required": ["patients", "admissions", "diagnoses_icd", "procedures_icd", "prescriptions",
                            "d_icd_diagnoses", "d_icd_procedures"], "optional": []},
    "omop": {"required": ["person", "visit_occurrence", "condition_occurrence", "procedure_occurrence",
                          "drug_exposure", "concept"],
             "optional": ["concept_ancestor", "concept_relationship", "visit_detail"]},
}

_INTEGER_NAMES = {"seq_num", "year_of_birth", "month_of_birth", "day_of_birth", "anchor_age", "anchor_year",
                  "icd_version", "min_levels_of_separation", "max_levels_of_separation"}


def _integral(frame: pd.DataFrame) -> pd.DataFrame:
    """Id and count columns stored as float (integers with missing values) as nullable integers."""
    out = frame
    for col in frame.columns:
        name = str(col).lower()
        series = frame[col]
        if not (name.endswith("_id") or name in _INTEGER_NAMES) or not pd.api.types.is_float_dtype(series):
            continue
        values = series.dropna()
        if len(values) and not (values == values.round()).all():
            continue
        if out is frame:
            out = frame.copy()
        out[col] = series.astype("Int64")
    return out


def prepare(source: str, tables: dict, out, *, maps=None, config=None, progress=None) -> dict:
    """Prepares a dataset (.ldata at `out`, written atomically) from `tables`, a dict of table name -> DataFrame
    (names as in `TABLES[source]`, any case). `maps`: medication maps folder (MIMIC; default: the maps the project
    ships); `config`: PrepareConfig keys (docs/data.md); `progress`: as for Trainer.run. Returns the job's result
    dict (output, statistics, report). InvalidArgument for an unknown source, an unknown or missing table, or a
    value that is not a DataFrame; the loader's own errors (BadFile naming table, line and column, ...) as raised
    by Trainer.run."""
    if source not in TABLES:
        raise InvalidArgument(f"prepare: source {source!r} (expected one of {', '.join(TABLES)})")
    spec = TABLES[source]
    known = {n.lower(): n for n in spec["required"] + spec["optional"]}
    given = {}
    for name, frame in tables.items():
        key = str(name).lower()
        if key not in known:
            raise InvalidArgument(f"prepare: table {name!r} is not a {source} table "
                                  f"(expected {', '.join(spec['required'] + spec['optional'])})")
        if not isinstance(frame, pd.DataFrame):
            raise InvalidArgument(f"prepare: table {name!r} is a {type(frame).__name__}, not a pandas DataFrame")
        if key in given:
            raise InvalidArgument(f"prepare: table {name!r} given twice")
        given[key] = frame
    missing = [n for n in spec["required"] if n.lower() not in given]
    if missing:
        raise InvalidArgument(f"prepare: missing {source} table(s) {', '.join(missing)}")
    job = {"task": "prepare", "source": source, "out": os.fspath(out)}
    if maps is not None:
        job["maps"] = os.fspath(maps)
    if config is not None:
        job["config"] = config
    with tempfile.TemporaryDirectory(prefix="leader-tables-") as folder:   # mode 0700: patient data stays private
        for key, frame in given.items():
            _integral(frame).to_csv(os.path.join(folder, known[key] + ".csv"), index=False)
        job["input"] = folder
        with Trainer(job) as trainer:
            return trainer.run(progress=progress)
