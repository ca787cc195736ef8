"""Architecture rules that must not erode: import direction, lazy adapters, pinned names."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import socialgate as sg

ROOT = Path(__file__).resolve().parents[2]


def _module_level_imports(path: Path) -> list[str]:
    """Imports executed when the module is imported (not those inside functions or
    ``if TYPE_CHECKING:`` blocks)."""
    tree = ast.parse(path.read_text(), str(path))
    found: list[str] = []

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.Import):
                found.extend(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = "." * node.level + (node.module or "")
                found.append(base)
                found.extend(f"{base}.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.If):
                test = ast.unparse(node.test)
                if "TYPE_CHECKING" not in test:
                    visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)
                for handler in node.handlers:
                    visit(handler.body)

    visit(tree.body)
    return found


def test_sdk_core_never_imports_adapters_or_gateway_at_module_level() -> None:
    offenders = []
    for path in sorted((ROOT / "sdk").rglob("*.py")):
        for name in _module_level_imports(path):
            if "adapters" in name.split(".") or "gateway" in name.split("."):
                offenders.append(f"{path.relative_to(ROOT)}: {name}")
    assert offenders == []


def test_importing_socialgate_loads_no_adapter() -> None:
    code = (
        "import sys, socialgate; "
        "prefixes = ('socialgate.adapters', 'socialgate.gateway'); "
        "bad = [m for m in sys.modules if m.startswith(prefixes)]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_adapters_are_found_by_name_and_alias() -> None:
    client = sg.Client(token_store=sg.MemoryTokenStore())
    assert client.account("x", sg.BearerToken("t")).network == "x"
    assert client.account("Twitter", sg.BearerToken("t")).network == "x"
    assert "x" in sg.available_networks()


def test_unknown_network_is_a_clear_error() -> None:
    client = sg.Client(token_store=sg.MemoryTokenStore())
    try:
        client.account("myspace", sg.BearerToken("t"))
    except sg.NotSupported as err:
        assert "myspace" in str(err) and "x" in str(err)
    else:  # pragma: no cover
        raise AssertionError("expected NotSupported")


def test_public_names_are_pinned() -> None:
    contract = {
        "Client",
        "Account",
        "BearerToken",
        "OAuth2Token",
        "OAuth1Token",
        "AppPassword",
        "OAuthApp",
        "Profile",
        "Post",
        "Metrics",
        "Media",
        "Draft",
        "Capability",
        "SocialGateError",
        "TransportError",
        "APIError",
        "BadRequest",
        "AuthenticationError",
        "PermissionDenied",
        "NotFound",
        "Conflict",
        "RateLimited",
        "ServerError",
        "ReauthorizationRequired",
        "NotSupported",
        "UpstreamSchemaError",
        "TokenStore",
        "MemoryTokenStore",
        "SQLiteTokenStore",
        "BudgetStore",
        "MemoryBudgetStore",
    }
    assert contract <= set(sg.__all__)
    for name in sg.__all__:
        assert hasattr(sg, name), name


def test_error_tree_shape() -> None:
    for cls in (
        sg.BadRequest,
        sg.AuthenticationError,
        sg.PermissionDenied,
        sg.NotFound,
        sg.Conflict,
        sg.RateLimited,
        sg.ServerError,
    ):
        assert issubclass(cls, sg.APIError)
    for cls in (
        sg.TransportError,
        sg.APIError,
        sg.ReauthorizationRequired,
        sg.NotSupported,
        sg.UpstreamSchemaError,
    ):
        assert issubclass(cls, sg.SocialGateError)


def test_modules_open_with_a_docstring() -> None:
    missing = [
        str(p.relative_to(ROOT))
        for folder in ("sdk", "adapters", "gateway")
        for p in (ROOT / folder).rglob("*.py")
        if p.stat().st_size and ast.get_docstring(ast.parse(p.read_text())) is None
    ]
    assert missing == []
