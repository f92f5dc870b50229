"""Account commands (账号): create logins, set passwords, issue, revoke and disable."""

import sys
from typing import Annotated

import typer
from rich.table import Table

from geogrid.cli.options import database, os_user
from geogrid.cli.output import console, fail
from geogrid.config import get_settings
from geogrid.errors import GeogridError

users_app = typer.Typer(
    help="账号与 API 密钥 (logins and API keys)", no_args_is_help=True
)


@users_app.command("add")
def users_add_cmd(
    username: Annotated[str, typer.Argument(help="用户名")],
    role: Annotated[str, typer.Option("--role", help="staff、planner 或 admin")],
    street: Annotated[
        str, typer.Option("--street", help="工作人员所属街道编码（staff 必填）")
    ] = "",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="从标准输入读取密码（脚本用）")
    ] = False,
) -> None:
    """新建账号 / create a login; the password is asked for, never given on the command line."""
    from geogrid.services.accounts import add_user

    password = _read_password(password_stdin)
    try:
        with database(get_settings()) as engine:
            caller = add_user(
                engine, username, password, role, street=street, actor=os_user()
            )
    except GeogridError as exc:
        fail(exc)
    console.print(
        f"已创建 created: {caller.username} ({caller.role.value} {caller.street})"
    )


@users_app.command("list")
def users_list_cmd() -> None:
    """列出账号 / list logins."""
    from geogrid.services.accounts import users

    try:
        with database(get_settings()) as engine:
            rows = users(engine)
    except GeogridError as exc:
        fail(exc)
    table = Table(
        "用户 user", "角色 role", "街道 street", "启用 active", "创建 created"
    )
    for row in rows:
        table.add_row(
            row.username,
            row.role,
            row.street,
            str(row.is_active),
            row.created_at.isoformat(),
        )
    console.print(table)


@users_app.command("key")
def users_key_cmd(
    username: Annotated[str, typer.Argument(help="用户名")],
    name: Annotated[str, typer.Option("--name", help="密钥用途，如 nightly-sync")] = "",
) -> None:
    """为脚本生成 API 密钥（只显示一次）/ issue an API key for scripts (shown once)."""
    from geogrid.services.accounts import create_api_key

    try:
        with database(get_settings()) as engine:
            key = create_api_key(engine, username, name=name, actor=os_user())
    except GeogridError as exc:
        fail(exc)
    console.print(key)


@users_app.command("revoke")
def users_revoke_cmd(username: Annotated[str, typer.Argument(help="用户名")]) -> None:
    """吊销该用户的全部令牌和密钥 / revoke every token and key of a user."""
    from geogrid.services.accounts import revoke

    try:
        with database(get_settings()) as engine:
            count = revoke(engine, username, actor=os_user())
    except GeogridError as exc:
        fail(exc)
    console.print(f"已吊销 revoked: {count}")


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(typer.prompt("密码 password", hide_input=True, confirmation_prompt=True))


@users_app.command("passwd")
def users_passwd_cmd(
    username: Annotated[str, typer.Argument(help="用户名")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="从标准输入读取密码（脚本用）")
    ] = False,
) -> None:
    """设置新密码（同时吊销其令牌）/ set a new password; the user's tokens are revoked."""
    from geogrid.services.accounts import set_password

    password = _read_password(password_stdin)
    try:
        with database(get_settings()) as engine:
            set_password(engine, username, password, actor=os_user())
    except GeogridError as exc:
        fail(exc)
    console.print(f"已更新密码 password changed: {username}")


@users_app.command("disable")
def users_disable_cmd(username: Annotated[str, typer.Argument(help="用户名")]) -> None:
    """停用账号：立即拒绝其登录、令牌和密钥 / refuse a user's logins, tokens and keys at once."""
    from geogrid.services.accounts import disable

    try:
        with database(get_settings()) as engine:
            count = disable(engine, username, actor=os_user())
    except GeogridError as exc:
        fail(exc)
    console.print(f"已停用 disabled: {username}（吊销 revoked {count}）")
