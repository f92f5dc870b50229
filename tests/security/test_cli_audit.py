"""Finding 7 of issue 13: what the command line changes is audited, with who did it."""

import getpass
import json
from pathlib import Path

from geogrid.cli import app as cli
from geogrid.services import roster
from geogrid.store.engine import Bind
from tests.cli.conftest import invoke
from tests.factories import square, write_geojson


def _actions(bind: Bind) -> list[tuple[str, str, str]]:
    return [(e.actor, e.action, e.target) for e in roster.audit_log(bind)]


def test_cli_writes_are_audited_as_their_user(
    sample_copy: Bind, cli_for, tmp_path: Path
) -> None:
    run = cli_for(sample_copy.engine.url.render_as_string(hide_password=False))
    me = getpass.getuser()
    building = write_geojson(
        tmp_path / "b.geojson", [({"code": "NEW-B1"}, square(5, 3, size=0.0005))]
    )

    assert invoke(run, "import", "buildings", building).exit_code == 0
    checked = invoke(run, "check", "--format", "json")
    key = json.loads(checked.output)["findings"][0]["properties"]["key"]
    assert invoke(run, "check", "accept", key, "--reason", "飞地").exit_code == 0
    assert invoke(run, "check", "revoke", key, "--by", "zhao").exit_code == 0
    plan = invoke(run, "plan", "new", "--community", "620899001001", "--author", "wang")
    assert plan.exit_code == 0
    rename = invoke(
        run, "plan", "edit", "1", "rename", "--grid", "620899001001001",
        "--name", "一网格", "--author", "wang",
    )  # fmt: skip
    assert rename.exit_code == 0, rename.output
    assert invoke(run, "plan", "publish", "1", "--author", "wang").exit_code == 0
    added = cli_for(sample_copy.engine.url.render_as_string(hide_password=False))
    assert (
        added.invoke(
            cli,
            ["users", "add", "sun", "--role", "planner", "--password-stdin"],
            input="a-long-passphrase\n",
        ).exit_code
        == 0
    )

    logged = _actions(sample_copy)
    assert (me, "import.buildings") in {(a, b) for a, b, _ in logged}
    assert (me, "finding.accept", f"finding:{key}") in logged
    assert ("zhao", "finding.revoke", f"finding:{key}") in logged
    assert ("wang", "plan.publish", "plan:1") in logged
    assert (me, "user.add", "user:sun") in logged
