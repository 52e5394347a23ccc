"""The pretraining data generator as an Apache Beam pipeline (--runner=DirectRunner, ...).

The same algorithm as the local writer, on any Beam runner:

  groups of `interleave_windows` (file, window) keys --Reshuffle--> read and
  tokenize the group's windows, then their dupe_factor rounds round-major
  (`pretraining_workers.tokenize_task` / `instances_task`, the local workers'
  own functions) --Reshuffle--> WriteToTFRecord

so for the same inputs, seed and settings the records are those of the local
writer, as a multiset, for any runner and parallelism. A window is read on its
own from its byte range (`pretraining_documents.read_window`), through Beam's
filesystems (local, gs://, s3://, hdfs://). A worker holds one group's
tokenized windows and one window-round's records at a time (the local writer
holds two groups). The order across work units comes from the runner (a
Reshuffle before the sink), not from the local shuffle buffer; within a unit,
the round-major order keeps a document's differently masked copies a group's
worth of records apart, as in the local writer. (The DirectRunner's Reshuffle
keeps a bundle's order, so there the records of one window-round stay in runs;
the trainer's record shuffle mixes them.) Beam's sink writes `<output_file>-SSSSS-of-NNNNN` and renames its
temporary files only when the pipeline succeeds.

apache_beam is imported only here, and only when a Beam runner is asked for;
it is the optional `beam` extra.
"""

import contextlib
import dataclasses
import difflib
import fnmatch
import logging as std_logging
import math
import os
import tempfile
import time

from absl import logging

from albert_tf.pretraining_data import documents as pretraining_documents
from albert_tf.pretraining_data import workers as pretraining_workers
from albert_tf.pretraining_data import writer as pretraining_writer
from albert_tf.pretraining_data.config import BEAM_RUNNERS

# Metric namespace of the pipeline's counters.
METRICS_NAMESPACE = "albert_tf.create_pretraining_data"
_SHARD_BYTES = 128 << 20
_MAX_DEFAULT_SHARDS = 10000


def import_beam():
    """The `apache_beam` module (its logging quiet), or an ImportError saying how to
    install it."""
    quiet_beam_logging()
    try:
        import apache_beam  # pylint: disable=import-outside-toplevel
    except ImportError as e:
        raise ImportError(
            "a Beam --runner needs Apache Beam, the optional 'beam' extra: "
            "pip install 'albert_tf[beam]' (or pip install -e '.[beam]' in a clone); "
            f"--runner=local needs nothing more ({e})") from e
    return apache_beam


def parse_pipeline_options(text):
    """'k=v,k=v' -> ['--k=v', '--k=v'] (tensorflow-datasets' convention).

    Raises:
      ValueError naming --beam_pipeline_options and the bad item.
    """
    args = []
    for item in (part.strip() for part in str(text or "").split(",")):
        if not item:
            continue
        key, sep, value = item.partition("=")
        key = key.strip().lstrip("-")
        if not sep or not key:
            raise ValueError(f"--beam_pipeline_options: {item!r} is not key=value "
                             f"(e.g. direct_num_workers=2,direct_running_mode=multi_processing)")
        args.append(f"--{key}={value.strip()}")
    return args


def quiet_beam_logging():
    """Keeps apache_beam's logging in this process to warnings, unless `--verbosity` >= 1:
    its INFO lines (optional clients missing, runner set-up, ports) are dropped, and so are
    the copies of the workers' log lines that local runners relay through their job
    service (a local worker writes them to the same stderr itself: they showed twice)."""
    if logging.level_debug():
        return
    std_logging.getLogger("apache_beam").setLevel(std_logging.WARNING)
    std_logging.getLogger("apache_beam.runners.portability.local_job_service").setLevel(
        std_logging.CRITICAL + 1)


def worker_log_level(pipeline_args):
    """`pipeline_args` with workers logging at WARNING (`default_sdk_harness_log_level`),
    unless they set it or `--verbosity` >= 1. What a worker logs before it reads that
    option is dropped by `albert_tf.quiet_logs`."""
    if logging.level_debug() or any(arg.startswith("--default_sdk_harness_log_level=")
                                    for arg in pipeline_args):
        return list(pipeline_args)
    return list(pipeline_args) + ["--default_sdk_harness_log_level=WARNING"]


@contextlib.contextmanager
def temporary_files_removed_after():
    """Points this process's temporary directory (and TMPDIR, which workers inherit) at a
    new folder, removed at the end: Beam's local runners leave theirs behind (staging
    folders, `beam-requirements-cache`, `beam-temp*`)."""
    saved_tempdir, saved_env = tempfile.tempdir, os.environ.get("TMPDIR")
    with tempfile.TemporaryDirectory(prefix="albert_tf_beam_",
                                     ignore_cleanup_errors=True) as folder:
        tempfile.tempdir = os.environ["TMPDIR"] = folder
        try:
            yield folder
        finally:
            tempfile.tempdir = saved_tempdir
            if saved_env is None:
                os.environ.pop("TMPDIR", None)
            else:
                os.environ["TMPDIR"] = saved_env


def check_pipeline_options(args):
    """`args` (`--key=value`), once every key is an option Beam knows.

    Beam drops an unknown option with a warning and runs without it (a misspelt
    `direct_num_worker=2` would run on one worker).

    Raises:
      ValueError naming --beam_pipeline_options, the key and the closest option.
    """
    beam = import_beam()
    known = set(beam.options.pipeline_options.PipelineOptions([]).get_all_options())
    for arg in args:
        key = arg[2:].partition("=")[0]
        if key not in known:
            close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.7)
            hint = f"; did you mean {close[0]!r}?" if close else \
                " (see `python -m apache_beam.runners.direct.direct_runner --help`)"
            raise ValueError(f"--beam_pipeline_options: {key!r} is not a Beam pipeline "
                             f"option{hint}")
    return args


def default_num_shards(input_bytes, dupe_factor):
    """About one output shard per 128 MB of input text x dupe_factor (>= 1)."""
    return max(1, min(_MAX_DEFAULT_SHARDS,
                      math.ceil(input_bytes * dupe_factor / _SHARD_BYTES)))


def shard_names(output_file, num_shards):
    """The files Beam's TFRecord sink writes, `<output_file>-SSSSS-of-NNNNN`."""
    return [f"{output_file}-{i:05d}-of-{num_shards:05d}" for i in range(num_shards)]


def match_input_files(input_file):
    """Comma-separated globs -> [(path, size in bytes)] through Beam's filesystems.

    Each pattern's matches sorted, as `pretraining_documents.expand_input_files`
    (so file indices, and thus records, agree with the local writer), and
    without `*.tmp-<pid>` files of killed runs.
    """
    beam = import_beam()
    filesystems = beam.io.filesystems.FileSystems
    files = []
    for pattern in pretraining_documents.split_patterns(input_file):
        if "://" not in pattern:
            # Beam's local file system matches a relative glob against nothing; the
            # local writer (tf.io.gfile) against the working directory.
            pattern = os.path.abspath(pattern)
        sizes = {}
        for result in filesystems.match([pattern]):
            for metadata in result.metadata_list:
                sizes[metadata.path] = metadata.size_in_bytes
        for path in pretraining_documents.select_matches(pattern, sizes):
            files.append((path, sizes[path]))
    return files


def _beam_open(path):
    beam = import_beam()
    return beam.io.filesystems.FileSystems.open(
        path, compression_type=beam.io.filesystems.CompressionTypes.UNCOMPRESSED)


def window_groups(input_files, config):
    """Work units: lists of `interleave_windows` consecutive (file index, path, window index)."""
    keys = pretraining_documents.window_keys([size for _, size in input_files],
                                             config.window_bytes)
    tasks = [(file_index, input_files[file_index][0], window_index)
             for file_index, window_index in keys]
    size = config.interleave_windows
    return [tasks[i:i + size] for i in range(0, len(tasks), size)]


def group_records(group, config, stats=None, open_fn=None):
    """Yields the records of a group of windows, round-major (after `init_worker`).

    Each window is read and tokenized (`pretraining_workers.tokenize_task`), then
    round 0 of every window in the group, round 1, ... (`instances_task`), as the
    local writer orders them, so a document's differently masked copies are a
    group's worth of records apart before the runner mixes them further. Holds
    the group's tokenized windows and one round's records of one window.

    stats: a `pretraining_documents.ReadStats` to add lines and documents to.
    """
    stats = stats if stats is not None else pretraining_documents.ReadStats()
    tokenized, raw = [], None
    for file_index, path, window_index in group:
        raw = pretraining_documents.read_window(path, window_index, config.window_bytes,
                                                stats, open_fn)
        window = pretraining_workers.tokenize_task(raw) if raw else None
        if window is not None and window.num_documents:
            stats.documents += window.num_documents
            tokenized.append(((file_index, window_index), window))
    del raw
    for dupe_index in range(config.dupe_factor):
        for key, window in tokenized:
            yield from pretraining_workers.instances_task(window, key, dupe_index)


def _group_records_fn(tokenizer, config):
    """A DoFn: a group of windows -> their records, all rounds, round-major."""
    beam = import_beam()
    metrics = beam.metrics.Metrics

    class GroupRecords(beam.DoFn):
        """Reads, tokenizes and builds every dupe round of a group of windows."""

        def __init__(self):
            super().__init__()
            self._tokenizer, self._config = tokenizer, config
            self._counters = {name: metrics.counter(METRICS_NAMESPACE, name) for name in (
                "lines", "undecodable_lines", "documents", "records")}

        def setup(self):
            pretraining_workers.init_worker(self._tokenizer, self._config)

        def process(self, group):
            stats = pretraining_documents.ReadStats()
            records = 0
            for record in group_records(group, self._config, stats, _beam_open):
                records += 1
                yield record
            self._counters["lines"].inc(stats.lines)
            self._counters["undecodable_lines"].inc(stats.undecodable_lines)
            self._counters["documents"].inc(stats.documents)
            self._counters["records"].inc(records)

    return GroupRecords()


@dataclasses.dataclass
class BeamRunStats(pretraining_writer.PretrainingDataStats):
    """What a Beam run read and wrote (from the pipeline's counters), and its shards."""
    output_files: tuple = ()


def build_pipeline(pipeline, input_files, output_file, tokenizer, config, num_shards):
    """Adds the generator to `pipeline`; input_files: [(path, size)]."""
    beam = import_beam()
    return (pipeline
            | "WindowGroups" >> beam.Create(window_groups(input_files, config))
            | "SpreadWindowGroups" >> beam.Reshuffle()
            | "GroupRecords" >> beam.ParDo(_group_records_fn(tokenizer, config))
            | "MixRecords" >> beam.Reshuffle()
            | "WriteTFRecords" >> beam.io.WriteToTFRecord(
                output_file, num_shards=num_shards,
                compression_type=beam.io.filesystems.CompressionTypes.UNCOMPRESSED))


def _counter(result, name):
    beam = import_beam()
    query = result.metrics().query(
        beam.metrics.MetricsFilter().with_namespace(METRICS_NAMESPACE).with_name(name))
    total = 0
    for counter in query["counters"]:
        value = counter.committed if counter.committed is not None else counter.attempted
        total += value or 0
    return total


def create_pretraining_data_beam(input_file, output_file, tokenizer, config):
    """Runs the generator on `config.runner` with `config.beam_pipeline_options`.

    Args:
      input_file: comma-separated globs (any Beam filesystem).
      output_file: the shard prefix: writes `<output_file>-SSSSS-of-NNNNN`.
      tokenizer: `FullTokenizer` (pickled to the workers, model included).
      config: `PretrainingDataConfig` with a Beam `runner`.

    Returns:
      `BeamRunStats`.

    Raises:
      ImportError without apache_beam; ValueError for bad settings, an output
      shard that is an input, or an empty corpus (its empty shards removed).
    """
    if config.runner not in BEAM_RUNNERS:
        raise ValueError(f"runner ({config.runner!r}) is not a Beam runner: "
                         f"{', '.join(BEAM_RUNNERS)}")
    if "," in output_file:
        raise ValueError(f"output_file ({output_file!r}): a Beam runner writes sharded "
                         f"files from one prefix; give one path and --num_output_shards")
    beam = import_beam()
    options = beam.options.pipeline_options.PipelineOptions(
        worker_log_level(check_pipeline_options(
            parse_pipeline_options(config.beam_pipeline_options))))
    input_files = match_input_files(input_file)
    input_bytes = sum(size for _, size in input_files)
    num_shards = config.num_output_shards or default_num_shards(input_bytes,
                                                                config.dupe_factor)
    outputs = shard_names(output_file, num_shards)
    pretraining_writer.check_output_paths([path for path, _ in input_files], outputs)
    # Beam's sink first deletes every existing `<output_file>-*-of-NNNNN`.
    pattern = f"{pretraining_writer.real_path(output_file)}-*-of-{num_shards:05d}"
    for path, _ in input_files:
        if fnmatch.fnmatchcase(pretraining_writer.real_path(path), pattern):
            raise ValueError(f"input file {path!r} matches the output shards "
                             f"{output_file}-*-of-{num_shards:05d} that Beam's sink replaces")
    pretraining_writer.check_tokenizer(tokenizer)
    logging.info("Beam %s: %d input file(s), %d bytes, %d output shard(s) %s-SSSSS-of-%05d",
                 config.runner, len(input_files), input_bytes, num_shards, output_file,
                 num_shards)
    start = time.time()
    with temporary_files_removed_after():
        pipeline = beam.Pipeline(runner=config.runner, options=options)
        build_pipeline(pipeline, input_files, output_file, tokenizer, config, num_shards)
        result = pipeline.run()
        result.wait_until_finish()
    stats = BeamRunStats(input_files=len(input_files), output_files=tuple(outputs),
                         seconds=time.time() - start)
    for name in ("lines", "undecodable_lines", "documents", "records"):
        setattr(stats, name, _counter(result, name))
    if stats.documents == 0:
        for path in outputs:
            if beam.io.filesystems.FileSystems.exists(path):
                beam.io.filesystems.FileSystems.delete([path])
        raise ValueError(f"empty corpus: no text in {len(input_files)} input file(s) "
                         f"matching {input_file!r}")
    rate = stats.records / stats.seconds if stats.seconds > 0 else 0.0
    logging.info("done: documents %d, instances %d, records/s %.1f, lines %d (%d not UTF-8, "
                 "skipped), %.1f s, runner %s", stats.documents, stats.records,
                 rate, stats.lines, stats.undecodable_lines, stats.seconds, config.runner)
    return stats
