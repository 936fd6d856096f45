"""Profile `k8s`, validated offline (no cluster here): every deploy/*/dagster.yaml passes Dagster's instance config
validation, the K8sRunLauncher and k8s_job_executor configs pass their schemas and a misspelt key is rejected, and
dagster_k8s builds the Job manifest of a drop run (image, env from secrets, resources, labels)."""
import yaml
import pytest
from dagster._config import process_config
from dagster._core.code_pointer import ModuleCodePointer
from dagster._core.instance.config import dagster_instance_config
from dagster._core.origin import JobPythonOrigin, RepositoryPythonOrigin
from dagster._core.storage.dagster_run import DagsterRun
from dagster_k8s import K8sRunLauncher, k8s_job_executor
from dagster_k8s.container_context import K8sContainerContext
from dagster_k8s.job import construct_dagster_k8s_job, get_job_name_from_run_id

from .conftest import DEPLOY

PG_ENV = {"STRATA_PG_HOST": "pg", "STRATA_PG_PORT": "5432", "STRATA_PG_USER": "dagster", "STRATA_PG_PASSWORD": "x",
          "STRATA_PG_DB": "dagster"}


def load(path):
    return yaml.safe_load((DEPLOY / path).read_text())


@pytest.mark.parametrize("profile", ["embedded", "postgres", "k8s"])
def test_instance_config_of_each_profile_validates(profile, monkeypatch):
    for k, v in PG_ENV.items():
        monkeypatch.setenv(k, v)
    config, _ = dagster_instance_config(str(DEPLOY / profile))
    limits = config["concurrency"]["runs"]["tag_concurrency_limits"]
    assert limits == [{"key": "strata/service", "value": {"applyLimitPerUniqueValue": True}, "limit": 1}]
    assert config["concurrency"]["pools"]["default_limit"] == (8 if profile == "k8s" else 1)
    # a run whose worker died must not hold pool "duckdb" forever: once the run has ended (failed by K8sRunLauncher's
    # health check, or by max_runtime under the default launcher, which cannot see a dead worker) its slots are freed
    monitoring = config["run_monitoring"]
    assert monitoring["enabled"] and 0 < monitoring["free_slots_after_run_end_seconds"] <= 300
    assert profile == "k8s" or monitoring["max_runtime_seconds"] >= 3600


def test_instance_config_rejects_a_misspelt_key(tmp_path):
    bad = (DEPLOY / "embedded" / "dagster.yaml").read_text().replace("max_concurrent_runs", "max_concurent_runs")
    (tmp_path / "dagster.yaml").write_text(bad)
    with pytest.raises(Exception, match="max_concurent_runs"):
        dagster_instance_config(str(tmp_path))


def test_run_launcher_config_validates_and_rejects_misspelling():
    cfg = load("k8s/dagster.yaml")["run_launcher"]["config"]
    assert process_config(K8sRunLauncher.config_type(), cfg).success
    bad = {**cfg, "job_namepsace": cfg["job_namespace"]}
    result = process_config(K8sRunLauncher.config_type(), bad)
    assert not result.success and "job_namepsace" in str(result.errors)


def test_executor_config_validates_and_rejects_misspelling():
    schema = k8s_job_executor.config_schema.config_type
    cfg = load("k8s/executor.yaml")["execution"]["config"]
    assert process_config(schema, cfg).success
    result = process_config(schema, {**cfg, "max_concurent": 4})
    assert not result.success and "max_concurent" in str(result.errors)


def test_helm_values_carry_the_same_limits():
    values = load("k8s/values.yaml")
    qrc = values["dagsterDaemon"]["runCoordinator"]["config"]["queuedRunCoordinator"]
    assert qrc["tagConcurrencyLimits"] == [{"key": "strata/service", "value": {"applyLimitPerUniqueValue": True}, "limit": 1}]
    k8s = values["runLauncher"]["config"]["k8sRunLauncher"]
    assert [s["name"] for s in k8s["envSecrets"]] == ["strata-postgres", "strata-s3", "strata-slack"]
    assert values["dagster-user-deployments"]["deployments"][0]["dagsterApiGrpcArgs"] == ["-m", "pipeline.definitions"]


def test_job_manifest_for_a_drop_run(tmp_path):
    cfg = dict(load("k8s/dagster.yaml")["run_launcher"]["config"])
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "t",
        "clusters": [{"name": "t", "cluster": {"server": "https://127.0.0.1:1"}}],
        "contexts": [{"name": "t", "context": {"cluster": "t", "user": "t"}}],
        "users": [{"name": "t", "user": {"token": "t"}}]}))
    cfg.update(load_incluster_config=False, kubeconfig_file=str(kubeconfig))
    launcher = K8sRunLauncher(**cfg)
    image = cfg["job_image"]
    origin = JobPythonOrigin("ingest_job", RepositoryPythonOrigin(
        "/usr/local/bin/python", ModuleCodePointer("pipeline.definitions", "defs", "/opt/dagster/app"),
        container_image=image))
    run = DagsterRun(job_name="ingest_job", run_id="0123abcd-0000-0000-0000-000000000000", job_code_origin=origin,
                     tags={"dagster/partition": "day-01.jsonl", "strata/drop": "day-01.jsonl", "strata/service": "chat"})
    ctx = K8sContainerContext.create_for_run(run, launcher, include_run_tags=True)
    job_config = ctx.get_k8s_job_config(job_image=image, run_launcher=launcher)
    name = get_job_name_from_run_id(run.run_id)
    job = construct_dagster_k8s_job(job_config, ["dagster", "api", "execute_run", "{}"], name, ctx.run_k8s_config,
                                    pod_name=name, component="run_worker",
                                    labels={"dagster/job": "ingest_job", "dagster/run-id": run.run_id})
    assert ctx.namespace == "strata"
    spec = job.spec.template.spec
    (container,) = spec.containers
    assert container.image == image and container.image_pull_policy == "IfNotPresent"
    assert [e.secret_ref.name for e in container.env_from if e.secret_ref] == ["strata-postgres", "strata-s3", "strata-slack"]
    assert [e.config_map_ref.name for e in container.env_from if e.config_map_ref] == ["strata-settings"]
    assert container.resources.requests == {"cpu": "1", "memory": "2Gi"}
    assert container.resources.limits == {"cpu": "2", "memory": "4Gi"}
    assert spec.service_account_name == "strata-run"
    labels = job.metadata.labels
    assert labels["app.kubernetes.io/part-of"] == "strata" and labels["dagster/job"] == "ingest_job"
    assert labels["app.kubernetes.io/component"] == "run_worker"
    assert container.args == ["dagster", "api", "execute_run", "{}"]
    pg_password = [e for e in container.env if e.name == "DAGSTER_PG_PASSWORD"]
    assert pg_password and pg_password[0].value_from.secret_key_ref.name == "strata-postgres"
