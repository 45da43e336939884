"""What each app of a process shares with the others: compiled URL builders and templates.

Shared means compiled once, and still exact: a rule's defaults and a template's edited
source each get code of their own.
"""
from jinja2 import Environment, FileSystemLoader
from werkzeug.routing import Map

from portal.app import create_app
from portal.routing import SharedBuilderRule
from portal.templating import BYTECODE_CACHE


def test_apps_share_route_builders_and_build_the_same_urls(base_config):
    first, second = create_app(dict(base_config)), create_app(dict(base_config))
    # Flask adds its static route itself, before create_app chooses the rule class.
    pairs = [(one, other) for one, other in zip(first.url_map.iter_rules(),
                                                second.url_map.iter_rules(), strict=True)
             if one.endpoint != "static"]
    assert len(pairs) > 100
    for one, other in pairs:
        assert one.rule == other.rule
        assert one._build.__func__ is other._build.__func__
        assert one._build_unknown.__func__ is other._build_unknown.__func__
    for app in (first, second):
        urls = app.url_map.bind("portal.test")
        assert urls.build("catalog.service_detail", {"slug": "order"}) == "/catalog/services/order"
        app.extensions["portal_db"].engine.dispose()


def test_a_rule_with_other_defaults_gets_a_builder_of_its_own():
    def page_url(default: int) -> str:
        rule = SharedBuilderRule("/pages/<int:number>", endpoint="pages",
                                 defaults={"number": default})
        return Map([rule]).bind("portal.test").build("pages", {})

    assert page_url(1) == "/pages/1"
    assert page_url(2) == "/pages/2"


class CountingEnvironment(Environment):
    compiled = 0

    def compile(self, *args, **kwargs):
        CountingEnvironment.compiled += 1
        return super().compile(*args, **kwargs)


def _render(folder) -> str:
    env = CountingEnvironment(loader=FileSystemLoader(folder), bytecode_cache=BYTECODE_CACHE)
    return env.get_template("page.html").render(who="you")


def test_templates_compile_once_per_process_and_again_when_edited(tmp_path):
    (tmp_path / "page.html").write_text("hello {{ who }}")
    assert _render(tmp_path) == "hello you"
    compiled = CountingEnvironment.compiled
    assert _render(tmp_path) == "hello you"  # a second environment, as a second app has
    assert CountingEnvironment.compiled == compiled

    (tmp_path / "page.html").write_text("goodbye {{ who }}")
    assert _render(tmp_path) == "goodbye you"
    assert CountingEnvironment.compiled == compiled + 1
