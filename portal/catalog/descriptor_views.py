"""Backstage catalog-info.yaml: download descriptors, import a team's file."""
from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for

from portal.auth.access import audit_action, require_roles
from portal.catalog import descriptors, entity_store
from portal.catalog import service as catalog
from portal.catalog.blueprint import IMPORTERS, STAFF, bp
from portal.catalog.forms import ImportForm
from portal.extensions import db

YAML = "application/yaml"
# ?format= -> (exporter, content type, file extension)
FORMATS = {"yaml": (entity_store.export_yaml, YAML, "yaml"),
           "json": (entity_store.export_json, "application/json", "json")}
# Notes shown after an import; the rest are summarised in a count.
MAX_NOTES = 20


def _base_url() -> str:
    return current_app.config["PUBLIC_BASE_URL"]


def _export(slug: str | None, attachment: bool) -> Response:
    chosen = request.args.get("format", "yaml")
    if chosen not in FORMATS:
        abort(400, description=f"Unknown format; choose one of {', '.join(FORMATS)}.")
    exporter, mimetype, extension = FORMATS[chosen]
    headers = {"Content-Disposition": f"attachment; filename=catalog-info.{extension}"} \
        if attachment else {}
    return Response(exporter(session=db.session, base_url=_base_url(), slug=slug),
                    mimetype=mimetype, headers=headers)


@bp.get("/catalog-info.yaml")
@require_roles(*STAFF)
def export_all():
    """The whole catalog as one multi-document catalog-info.yaml (or ?format=json)."""
    return _export(None, attachment=True)


@bp.get("/services/<slug>/catalog-info.yaml")
@require_roles(*STAFF)
def export_one(slug: str):
    """One entry's catalog-info.yaml (or ?format=json), to keep in the team's repository."""
    if catalog.get_service(session=db.session, slug=slug) is None:
        abort(404)
    return _export(slug, attachment=False)


@bp.get("/entities")
@require_roles(*STAFF)
def entities():
    """Imported Backstage entities of every kind with their relations."""
    return render_template("catalog/entities.html",
                           entities=entity_store.list_entities(session=db.session))


def _uploaded_text(form: ImportForm) -> str:
    upload = form.descriptor.data
    if upload and getattr(upload, "filename", ""):
        raw = upload.read()
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            abort(422, description="The uploaded file is not UTF-8 text.")
    return form.text.data or ""


@bp.route("/import", methods=["GET", "POST"])
@require_roles(*IMPORTERS)
def import_descriptors():
    """Create or update catalog entries from a team's catalog-info.yaml."""
    form, problems = ImportForm(), []
    if form.validate_on_submit():
        text = _uploaded_text(form)
        if not text.strip():
            problems = ["Upload a catalog-info.yaml file or paste its YAML."]
        else:
            try:
                result = entity_store.import_entities(session=db.session, text=text,
                                                      base_url=_base_url())
            except descriptors.DescriptorError as exc:
                problems = exc.problems
            else:
                audit_action("catalog.import", target_type="catalog",
                             details={"created": result.created, "updated": result.updated})
                flash(f"Imported {len(result.entities)} entities: {len(result.created)} "
                      f"catalog entries created, {len(result.updated)} updated.", "success")
                for note in result.notes[:MAX_NOTES]:
                    flash(note, "info")
                if len(result.notes) > MAX_NOTES:
                    flash(f"…and {len(result.notes) - MAX_NOTES} more notes.", "info")
                return redirect(url_for("catalog.index"), 303)
    status = 422 if form.is_submitted() else 200
    return render_template("catalog/import.html", form=form, problems=problems), status
