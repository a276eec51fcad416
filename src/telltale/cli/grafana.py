"""``telltale grafana export``: a Grafana dashboard of ``/metrics`` and the provisioning files
that load it (docs/grafana.md)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from telltale.errors import ConfigError


def _writable(out_dir: str) -> Path:
    """The output directory, made if need be; a clear error when it cannot be written."""
    path = Path(out_dir)
    if path.exists() and not path.is_dir():
        raise ConfigError(f"--out-dir {out_dir!r} is a file, not a directory; pick another path")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigError(
            f"cannot create --out-dir {out_dir!r} ({error.strerror or error}); "
            "pick a directory you can write to"
        ) from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise ConfigError(
            f"cannot write to --out-dir {out_dir!r} (permission denied); "
            "pick a directory you can write to"
        )
    return path


def register(cli: click.Group) -> None:
    @cli.group("grafana")
    def grafana_group() -> None:
        """Grafana: export a dashboard of the collector's /metrics, with provisioning files.

        \b
        Examples:
          telltale grafana export --out-dir grafana --prometheus-url http://prometheus:9090
          docker run -d -p 3000:3000 \\
            -v "$PWD/grafana/provisioning:/etc/grafana/provisioning:ro" grafana/grafana:11.6.0
        Then open http://localhost:3000, folder "Telltale". Steps and panels: docs/grafana.md.
        """

    @grafana_group.command("export")
    @click.option(
        "--out-dir", default="grafana", show_default=True,
        help="Where to write provisioning/ (made if missing).",
    )  # fmt: skip
    @click.option(
        "--prometheus-url", default="http://prometheus:9090", show_default=True,
        help="Prometheus as Grafana reaches it (inside Docker: the container's name, not localhost).",
    )  # fmt: skip
    @click.option(
        "--datasource-uid", default="telltale-prometheus", show_default=True,
        help="The uid of the provisioned data source, and the dashboard's default data source.",
    )  # fmt: skip
    @click.option(
        "--title", default="Telltale: models in production", show_default=True,
        help="The dashboard's title (at most 189 printable characters, any script).",
    )  # fmt: skip
    @click.option(
        "--uid", default="telltale-overview", show_default=True,
        help="The dashboard's uid; keep it stable so re-exports replace the same dashboard.",
    )  # fmt: skip
    @click.option(
        "--folder", default="Telltale", show_default=True, help="Grafana folder of the dashboard."
    )
    @click.option(
        "--scrape-interval", default="15s", show_default=True,
        help="Prometheus' scrape interval of telltale; Grafana sizes $__rate_interval from it.",
    )  # fmt: skip
    def export_command(
        out_dir: str,
        prometheus_url: str,
        datasource_uid: str,
        title: str,
        uid: str,
        folder: str,
        scrape_interval: str,
    ) -> None:
        """Write the dashboard and the Grafana provisioning files under OUT_DIR/provisioning/.

        \b
        Files (the same arguments always give the same bytes):
          provisioning/datasources/telltale.yaml          the Prometheus data source
          provisioning/dashboards/telltale.yaml           loads the dashboard into --folder
          provisioning/dashboards/telltale/<uid>.json     the dashboard
        \b
        Examples:
          telltale grafana export
          telltale grafana export --out-dir grafana --prometheus-url http://prometheus:9090 \\
            --title 'Fraud models' --datasource-uid prom-prod
          docker run -d --name grafana -p 3000:3000 \\
            -v "$PWD/grafana/provisioning:/etc/grafana/provisioning:ro" grafana/grafana:11.6.0
        Prometheus must scrape telltale with a read key, one job per project (docs/grafana.md).
        """
        from telltale.grafana import dashboard, dashboard_provisioning, datasource_provisioning

        # check every argument before touching the disk
        dashboard(title=title, uid=uid, datasource_uid=datasource_uid)
        datasource_provisioning(
            prometheus_url=prometheus_url,
            datasource_uid=datasource_uid,
            scrape_interval=scrape_interval,
        )
        dashboard_provisioning(folder=folder, path="/")
        root = _writable(out_dir)
        from telltale.grafana import export_files

        try:
            written = export_files(
                root,
                prometheus_url=prometheus_url,
                datasource_uid=datasource_uid,
                title=title,
                uid=uid,
                folder=folder,
                scrape_interval=scrape_interval,
            )
        except OSError as error:
            raise ConfigError(
                f"cannot write under --out-dir {out_dir!r} ({error.strerror or error}: "
                f"{error.filename}); pick a directory you can write to"
            ) from None
        for path in written:
            click.echo(f"wrote {path}")
        click.echo(
            f'mount with: -v "{root.resolve() / "provisioning"}:/etc/grafana/provisioning:ro"',
            err=True,
        )
