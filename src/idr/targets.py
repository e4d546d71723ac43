"""Where the driver builds: the embedded DuckDB file (dbt target `duckdb`) or a local Spark warehouse
(dbt target `spark`), behind one interface: lock, load, environment for dbt, counts, close."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Protocol

from idr import file_rewrite, forgetting, loading, publishing, spark_session, spark_warehouse, warehouse
from idr.dbt_invoke import PROJECT_DIR
from idr.summary import WarehouseMissingError, WarehouseSummary
from idr.warehouse import FileLoaded, LoadCounts
from idr.warehouse_files import MARTS_PATH_VAR, marts_path


class Target(Protocol):
    name: str  # the dbt target

    @property
    def location(self) -> str: ...  # what the messages and reports name

    @property
    def lock_path(self) -> Path: ...  # the run lock is `<lock_path>.lock`

    def environment(self) -> dict[str, str]: ...  # what profiles.yml reads for this target

    def arguments(self) -> list[str]: ...  # the driver's options naming this warehouse

    def check_writable(self) -> None: ...

    def load(
        self, files: list[Path], load_id: str, landing_schema: str, on_file: FileLoaded | None = None
    ) -> LoadCounts: ...

    def summarize(self, load_id: str | None = None) -> WarehouseSummary: ...

    # the Segment tables choice remembered (None: never given), and whether files were ever loaded
    def read_inputs(self, landing_schema: str) -> tuple[str | None, bool]: ...

    def remember_inputs(self, landing_schema: str, segment_tables: str) -> None: ...

    # after a successful build: publish the marts for readers (`fresh`: every generation written anew);
    # what was published, or None where readers need no copy
    def publish(self, manifest: Any, fresh: bool = False) -> publishing.Publication | None: ...

    # before a build: the forget requests (idr forget) it must finish, and whether anything is suppressed
    def forget_state(self, landing_schema: str) -> forgetting.ForgetState: ...

    # after a build, when anything is suppressed: whether the rows it validated include suppressed ones
    def suppressed_since(self, state: forgetting.ForgetState) -> bool: ...

    # after a build that finished forget requests or suppressed rows: no byte of what the tables no longer
    # hold stays in the warehouse; the requests are then marked completed
    def erase_freed_bytes(self, landing_schema: str, completed_requests: list[str]) -> None: ...

    def close(self) -> None: ...


class DuckDBTarget:
    name = "duckdb"

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path

    @property
    def location(self) -> str:
        return str(self.db_path)

    @property
    def lock_path(self) -> Path:
        return self.db_path

    def environment(self) -> dict[str, str]:
        return {"IDR_DB_PATH": str(self.db_path), MARTS_PATH_VAR: str(marts_path(self.db_path))}

    def arguments(self) -> list[str]:
        return ["--db", str(self.db_path)]

    def check_writable(self) -> None:
        """Fail early when another process holds the files; then move the marts of a warehouse built
        before they had a file of their own into the marts file."""
        marts_dir = PROJECT_DIR / "models" / "marts"
        warehouse.check_writable(self.db_path, sorted(path.stem for path in marts_dir.glob("*.sql")))

    def load(
        self, files: list[Path], load_id: str, landing_schema: str, on_file: FileLoaded | None = None
    ) -> LoadCounts:
        connection = warehouse.connect(self.db_path)
        try:
            warehouse.ensure_landing_tables(connection, landing_schema)
            return loading.load_files(connection, landing_schema, load_id, files, self.db_path.parent, on_file)
        finally:
            connection.close()

    def summarize(self, load_id: str | None = None) -> WarehouseSummary:
        connection = warehouse.connect(self.db_path, read_only=True)
        try:
            return warehouse.summarize(connection, load_id)
        finally:
            connection.close()

    def read_inputs(self, landing_schema: str) -> tuple[str | None, bool]:
        if not self.db_path.exists():
            return None, False
        connection = warehouse.connect(self.db_path, read_only=True)
        try:
            return warehouse.read_inputs(connection, landing_schema)
        finally:
            connection.close()

    def remember_inputs(self, landing_schema: str, segment_tables: str) -> None:
        connection = warehouse.connect(self.db_path)
        try:
            warehouse.remember_inputs(connection, landing_schema, segment_tables)
        finally:
            connection.close()

    def publish(self, manifest: Any, fresh: bool = False) -> publishing.Publication | None:
        """Publish the marts of `manifest` (the dbt manifest the build ran with; None: the one it wrote
        to its target folder). The manifest in memory, since another run from this project may be
        writing manifest.json at the same moment."""
        if manifest is None:
            path = Path(os.environ.get("DBT_TARGET_PATH", PROJECT_DIR / "target")) / "manifest.json"
            return publishing.publish(self.db_path, publishing.marts(path), fresh)
        models = [node.to_dict() for node in manifest.nodes.values() if node.resource_type == "model"]
        return publishing.publish(self.db_path, publishing.marts_of_nodes(models), fresh)

    def forget_state(self, landing_schema: str) -> forgetting.ForgetState:
        if not self.db_path.exists():
            return forgetting.ForgetState([], is_suppressing=False)
        connection = warehouse.connect(self.db_path, read_only=True)
        try:
            return forgetting.read_state(connection, landing_schema)
        finally:
            connection.close()

    def suppressed_since(self, state: forgetting.ForgetState) -> bool:
        connection = warehouse.connect(self.db_path, read_only=True)
        try:
            return forgetting.suppressed_since(connection, state.validated_through)
        finally:
            connection.close()

    def erase_freed_bytes(self, landing_schema: str, completed_requests: list[str]) -> None:
        """The file rewritten (file_rewrite), then the requests marked completed."""
        file_rewrite.rewrite(self.db_path)
        if marts_path(self.db_path).exists():
            file_rewrite.rewrite(marts_path(self.db_path))
        if completed_requests:
            connection = warehouse.connect(self.db_path)
            try:
                forgetting.complete_requests(connection, landing_schema, completed_requests)
                connection.execute("checkpoint")
            finally:
                connection.close()

    def close(self) -> None:
        """Nothing stays open: every step opens and closes the file."""


class SparkTarget:
    """Spark in this process, as dbt-spark's session method runs it, with the tables and the Derby
    metastore under `spark_dir`. The session is opened on first use and kept for dbt and the counts."""

    name = "spark"

    def __init__(self, spark_dir: Path, profiles_dir: Path) -> None:
        self.spark_dir = spark_dir
        self.profiles_dir = profiles_dir
        self._session: Any = None
        self._schema = ""

    @property
    def location(self) -> str:
        return f"{self.spark_dir} (Spark)"

    @property
    def lock_path(self) -> Path:
        return self.spark_dir / "warehouse"

    def environment(self) -> dict[str, str]:
        return {"IDR_SPARK_DIR": str(self.spark_dir)}

    def arguments(self) -> list[str]:
        return ["--target", "spark", "--spark-dir", str(self.spark_dir)]

    def session(self) -> Any:
        if self._session is None:
            os.environ.update(self.environment())  # profiles.yml is rendered with it, here and by dbt
            profile = spark_session.read_profile(self.profiles_dir)
            self.spark_dir.mkdir(parents=True, exist_ok=True)
            self._session = spark_session.open_session(profile, self.spark_dir)
            self._schema = profile.schema
        return self._session

    def check_writable(self) -> None:
        self.session()

    def load(
        self, files: list[Path], load_id: str, landing_schema: str, on_file: FileLoaded | None = None
    ) -> LoadCounts:
        staging = self.spark_dir / "staging"
        return spark_warehouse.load_files(self.session(), landing_schema, load_id, files, staging, on_file)

    def summarize(self, load_id: str | None = None) -> WarehouseSummary:
        if not self.spark_dir.is_dir():
            raise WarehouseMissingError(
                f"{self.spark_dir} holds no Spark warehouse yet: run "
                f"`idr run --target spark --spark-dir {self.spark_dir}` first"
            )
        session = self.session()
        return spark_warehouse.summarize(session, self._schema, load_id)

    def read_inputs(self, landing_schema: str) -> tuple[str | None, bool]:
        return spark_warehouse.read_inputs(self.session(), landing_schema)

    def remember_inputs(self, landing_schema: str, segment_tables: str) -> None:
        spark_warehouse.remember_inputs(self.session(), landing_schema, segment_tables)

    def publish(self, manifest: Any, fresh: bool = False) -> publishing.Publication | None:
        """Spark's tables are read through its metastore by any number of readers while a build runs."""
        return None

    def forget_state(self, landing_schema: str) -> forgetting.ForgetState:
        """idr forget works on the DuckDB target only (docs/privacy.md): nothing is pending or suppressed."""
        return forgetting.ForgetState([], is_suppressing=False)

    def suppressed_since(self, state: forgetting.ForgetState) -> bool:
        return False

    def erase_freed_bytes(self, landing_schema: str, completed_requests: list[str]) -> None:
        """Never called (see forget_state)."""

    def close(self) -> None:
        if self._session is not None:
            self._session.stop()
            self._session = None
