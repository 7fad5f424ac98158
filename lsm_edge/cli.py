"""The ``lsm-edge`` command line.  Each verb is a thin shell over a library module."""

from __future__ import annotations

import json
import sys

import click

from .errors import LsmEdgeError


class _Group(click.Group):
    """Turns user errors into one line on stderr and a non-zero exit, never a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except LsmEdgeError as e:
            raise click.ClickException(str(e)) from None
        except (FileNotFoundError, IsADirectoryError, PermissionError) as e:
            raise click.ClickException(f"{e.strerror}: {e.filename}") from None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "show_default": True})
@click.version_option(package_name="lsm-edge")
def main():
    """lsm-edge: take a wearable foundation model from pretraining to a phone."""


@main.group(cls=_Group)
def data():
    """Simulate, import and describe minute-level wearable datasets."""


@data.command("simulate")
@click.option("--subjects", default=100, type=click.IntRange(1), help="Number of simulated subjects.")
@click.option("--days", default=14, type=click.IntRange(1), help="Days simulated per subject.")
@click.option("--seed", default=0, type=int, help="Random seed; the same seed gives the same data.")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Output dataset folder.")
@click.option("--chunk-subjects", default=16, type=click.IntRange(1), help="Subjects per shard (memory bound).")
@click.option("--min-observed", default=0.2, type=click.FloatRange(0, 1),
              help="Keep a window when at least this share of its minutes has an observed feature.")
@click.option("--resume", is_flag=True, help="Continue an interrupted write, keeping the shards already written.")
def data_simulate(subjects, days, seed, out, chunk_subjects, min_observed, resume):
    """Simulate a dataset of 300-minute windows (the embedded default data source)."""
    from .data.describe import describe, format_description
    from .data.dataset import Dataset
    from .data.simulate import write_simulated

    write_simulated(out, subjects, days, seed, chunk_subjects, min_observed, resume)
    click.echo(format_description(describe(Dataset(out))))


@data.command("import-fitbit")
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Output dataset folder.")
@click.option("--min-observed", default=0.2, type=click.FloatRange(0, 1),
              help="Keep a window when at least this share of its minutes has an observed feature.")
@click.option("--skip-malformed", is_flag=True, help="Drop malformed rows (each is still reported) instead of failing.")
def data_import_fitbit(folder, out, min_observed, skip_malformed):
    """Import a Fitbit export in the Fitabase layout (heartrate_seconds_merged.csv, minute*_merged.csv)."""
    from .data.describe import describe, format_description
    from .data.dataset import Dataset
    from .data.fitbit import read_fitabase
    from .data.importing import write_dataset

    tls = read_fitabase(folder, skip_malformed)
    write_dataset(tls, out, {"kind": "fitabase", "path": str(folder)}, min_observed)
    click.echo(format_description(describe(Dataset(out))))


@data.command("import-long")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Output dataset folder.")
@click.option("--min-observed", default=0.2, type=click.FloatRange(0, 1),
              help="Keep a window when at least this share of its minutes has an observed feature.")
@click.option("--skip-malformed", is_flag=True, help="Drop malformed rows (each is still reported) instead of failing.")
def data_import_long(file, out, min_observed, skip_malformed):
    """Import a long-format CSV or Parquet file with columns subject,timestamp,feature,value."""
    from .data.describe import describe, format_description
    from .data.dataset import Dataset
    from .data.importing import write_dataset
    from .data.longform import read_long

    tls = read_long(file, skip_malformed)
    write_dataset(tls, out, {"kind": "long", "path": str(file)}, min_observed)
    click.echo(format_description(describe(Dataset(out))))


@data.command("describe")
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def data_describe(folder, as_json):
    """Subjects, windows, hours, per-feature missingness and label counts of a dataset folder."""
    from .data.dataset import Dataset
    from .data.describe import describe, format_description

    d = describe(Dataset(folder))
    click.echo(json.dumps(d, indent=1) if as_json else format_description(d))


@data.command("stats")
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="Where to write the JSON statistics.")
def data_stats(folder, out):
    """Per-feature z-score statistics over the training subjects only, saved as JSON."""
    from .data.dataset import Dataset
    from .data.stats import NormStats

    ds = Dataset(folder)
    st = NormStats.fit(w.values for w in ds.iter_windows("train"))
    st.save(out)
    from . import schema

    click.echo(f"statistics of {int(st.count.max())} training minutes written to {out}")
    for f, m, s in zip(schema.FEATURES, st.mean, st.std):
        click.echo(f"  {f.name:22s} mean {m:10.3f}  std {s:9.3f}  {f.unit}")


@data.command("schema")
def data_schema():
    """The 26 features: name, unit, sensor group and valid range."""
    from .schema import describe_schema

    click.echo(describe_schema())


if __name__ == "__main__":
    sys.exit(main())
