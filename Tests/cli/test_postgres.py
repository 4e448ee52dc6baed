"""`leader prepare --source omop --input postgresql://…` against a real PostgreSQL server that this module starts in
a temporary folder (Debian's `postgresql` package, installed by `make deps-system`) and stops at the end. The
server listens on a Unix socket only. A synthetic OMOP cohort with a partial visit table is loaded into typed
tables (clinical tables in schema `cdm`, the vocabulary in `vocab`); the prepared dataset must equal the one the CSV
path writes from the same files, bit for bit. Run by tools/run_host_tests.sh (make test)."""
import glob
import json
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from test_cli import run, run_json, USAGE

PATIENTS = 1500
TEXT_ID_COLUMNS = {"domain_id", "vocabulary_id", "concept_class_id", "relationship_id"}
INT_COLUMNS = {"year_of_birth", "month_of_birth", "day_of_birth", "min_levels_of_separation",
               "max_levels_of_separation"}


def pg_tools():
    """(initdb, pg_ctl, psql) of the newest installed server, or a skip (a failure under CI, which installs it)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    psql = shutil.which("psql")
    if not found or not psql:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL server binaries missing under CI: make deps-system installs postgresql",
                        pytrace=False)
        pytest.skip("needs PostgreSQL (make deps-system installs the postgresql package)")
    bindir = os.path.dirname(found[-1])
    return f"{bindir}/initdb", f"{bindir}/pg_ctl", psql


def column_type(name):
    if name in INT_COLUMNS:
        return "integer"
    if name.endswith("_id") and name not in TEXT_ID_COLUMNS:
        return "bigint"
    if name.endswith("_datetime"):
        return "timestamp"
    if name.endswith("_date"):
        return "date"
    return "text"


@pytest.fixture(scope="module")
def server():
    initdb, pg_ctl, psql = pg_tools()
    root = Path(tempfile.mkdtemp(prefix="leader-pg-"))
    as_server = []
    if os.geteuid() == 0:   # the server refuses to run as root: it runs as the package's postgres user
        pw = pwd.getpwnam("postgres")
        os.chmod(root, 0o755)
        os.chown(root, pw.pw_uid, pw.pw_gid)
        as_server = ["runuser", "-u", "postgres", "--"]
    data, sock = root / "data", root / "sock"
    subprocess.run(as_server + ["mkdir", str(sock)], check=True)
    subprocess.run(as_server + [initdb, "-D", str(data), "-A", "trust", "-U", "leader", "--no-sync"], check=True,
                   capture_output=True)
    # the role `reader` must give a password (scram); everyone else is trusted on the socket
    hba = "local all reader scram-sha-256\nlocal all all trust\n"
    subprocess.run(as_server + ["sh", "-c", f"printf '{hba}' > {data}/pg_hba.conf"], check=True)
    subprocess.run(as_server + [pg_ctl, "-D", str(data), "-l", str(root / "log"), "-w", "-o",
                                f"-k {sock} -c listen_addresses='' -c fsync=off", "start"], check=True,
                   capture_output=True)
    try:
        yield {"psql": psql, "sock": str(sock), "uri": f"postgresql://leader@/omop?host={sock}"}
    finally:
        subprocess.run(as_server + [pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def sql(server, db, text):
    p = subprocess.run([server["psql"], f"postgresql://leader@/{db}?host={server['sock']}", "-v", "ON_ERROR_STOP=1",
                        "-q", "-c", text], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr


@pytest.fixture(scope="module")
def cohort(server, tmp_path_factory):
    """A synthetic OMOP cohort (20 % of the visits missing from visit_occurrence) in CSV and in the database."""
    work = tmp_path_factory.mktemp("pgwork")
    run_json(work, "synth", "--patients", PATIENTS, "--seed", 4, "--format", "omop", "--visit-table-share", "0.8",
             "--out", "omop", "--json")
    sql(server, "postgres", "CREATE DATABASE omop")
    script = ["CREATE SCHEMA cdm;", "CREATE SCHEMA vocab;"]
    for csv in sorted((work / "omop").glob("*.csv")):
        table = csv.stem
        schema = "vocab" if table.startswith("concept") else "cdm"
        header = csv.read_text().split("\n", 1)[0].split(",")
        cols = ", ".join(f"{c} {column_type(c)}" for c in header)
        script.append(f"CREATE TABLE {schema}.{table} ({cols});")
        script.append(f"\\copy {schema}.{table} FROM '{csv}' WITH (FORMAT csv, HEADER true)")
    script += ["CREATE ROLE reader LOGIN PASSWORD 'pw-from-the-environment';",
               "GRANT USAGE ON SCHEMA cdm, vocab TO reader;",
               "GRANT SELECT ON ALL TABLES IN SCHEMA cdm, vocab TO reader;"]
    (work / "load.sql").write_text("\n".join(script) + "\n")
    p = subprocess.run([server["psql"], server["uri"], "-v", "ON_ERROR_STOP=1", "-q", "-f", str(work / "load.sql")],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return work


def test_postgres_gives_the_csv_paths_dataset_bit_for_bit(server, cohort):
    csv = run_json(cohort, "prepare", "--source", "omop", "--input", "omop", "--out", "csv.ldata", "--json")
    pg = run_json(cohort, "prepare", "--source", "omop", "--input", server["uri"], "--schema", "cdm",
                  "--vocabulary-schema", "vocab", "--out", "pg.ldata", "--json")
    assert (cohort / "pg.ldata").read_bytes() == (cohort / "csv.ldata").read_bytes()
    assert pg["report"] == csv["report"] and pg["statistics"] == csv["statistics"]
    # the partial visit table was noticed and restored, from the database as from the files
    assert len(pg["report"]["notes"]) == 1 and "visit_occurrence lacks" in pg["report"]["notes"][0]
    assert pg["statistics"]["patients"] == PATIENTS


def test_credentials_come_from_libpq_and_are_never_echoed(server, cohort):
    uri = f"postgresql://reader@/omop?host={server['sock']}"
    env = {k: v for k, v in os.environ.items() if k != "PGPASSWORD"}
    env["HOME"] = str(cohort)   # no ~/.pgpass
    args = ["prepare", "--source", "omop", "--input", uri, "--schema", "cdm", "--vocabulary-schema", "vocab",
            "--out", "reader.ldata"]
    p = subprocess.run([os.environ["LEADER_CLI"], *args], cwd=cohort, env=env, capture_output=True, text=True)
    assert p.returncode == 1 and "password" in p.stderr, p.stderr
    env["PGPASSWORD"] = "pw-from-the-environment"
    p = subprocess.run([os.environ["LEADER_CLI"], *args, "--json"], cwd=cohort, env=env, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert (cohort / "reader.ldata").read_bytes() == (cohort / "csv.ldata").read_bytes()
    # ~/.pgpass works too
    del env["PGPASSWORD"]
    pgpass = cohort / ".pgpass"
    pgpass.write_text(f"*:*:omop:reader:pw-from-the-environment\n")
    pgpass.chmod(0o600)
    p = subprocess.run([os.environ["LEADER_CLI"], *args], cwd=cohort, env=env, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    # a password written into the URI is never printed, not even in an error
    bad = f"postgresql://reader:s3cret-in-uri@/nosuchdb?host={server['sock']}"
    _, err = run(cohort, "prepare", "--source", "omop", "--input", bad, "--out", "x.ldata", code=1)
    assert "nosuchdb" in err and "s3cret-in-uri" not in err, err


def test_postgres_errors_name_schema_and_table(server, cohort):
    _, err = run(cohort, "prepare", "--source", "omop", "--input", server["uri"], "--schema", "nosuch",
                 "--out", "x.ldata", code=1)
    assert "table nosuch.person: no such table or view" in err, err
    _, err = run(cohort, "prepare", "--source", "omop", "--input", server["uri"], "--schema", "cdm",
                 "--out", "x.ldata", code=1)   # the vocabulary lives in another schema
    assert "table cdm.concept: no such table or view" in err, err
    _, err = run(cohort, "prepare", "--source", "omop", "--input", server["uri"], "--schema", "cdm; drop",
                 "--out", "x.ldata", code=1)
    assert "letters, digits and _ only" in err, err
    _, err = run(cohort, "prepare", "--source", "mimic3", "--input", server["uri"], "--out", "x.ldata", code=1)
    assert "a PostgreSQL input is supported for OMOP only" in err, err
    _, err = run(cohort, "prepare", "--source", "omop", "--input", "omop", "--schema", "cdm", "--out", "x.ldata", code=1)
    assert "apply to a postgresql:// input only" in err, err
    assert not (cohort / "x.ldata").exists()
