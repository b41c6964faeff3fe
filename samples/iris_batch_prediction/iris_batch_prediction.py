"""Iris batch prediction with a parallel job in a pipeline (SDK v2 style), on Dask.

Compared with the Azure ML notebook, the imports change prefix (``azure.ai.ml`` ->
``dask_parallel``), the workspace/credential cells are gone, and
``ml_client.jobs.create_or_update(my_job)`` is ``dask_parallel.run(my_job)``.
Run it from this folder: ``python iris_batch_prediction.py``.
"""

import dask_parallel
from dask_parallel import Input, Output
from dask_parallel.constants import AssetTypes, InputOutputModes
from dask_parallel.dsl import pipeline
from dask_parallel.entities import Environment
from dask_parallel.parallel import RunFunction, parallel_run_function

# Declare parallel job with run_function task
batch_inferencing_with_mini_batch_size = parallel_run_function(
    name="batch_inferencing_with_mini_batch_size",
    display_name="Batch Inferencing with mini_batch_size",
    description="parallel job to do batch inferencing with mini_batch_size on mltable tabular input",
    tags={"azureml_parallel_example": "2a_sdk"},
    inputs=dict(
        input_data=Input(
            type=AssetTypes.MLTABLE,
            description="Input tabular mltable data.",
            mode=InputOutputModes.DIRECT,  # tabular MLTable data needs 'direct' mode
        ),
        score_model=Input(
            type=AssetTypes.URI_FOLDER,
            description="Folder contains the model file.",
            mode=InputOutputModes.DOWNLOAD,
        ),
    ),
    outputs=dict(job_output_file=Output(type=AssetTypes.URI_FILE, mode=InputOutputModes.RW_MOUNT)),
    input_data="${{inputs.input_data}}",  # the input divided into mini-batches
    mini_batch_size="1kb",  # tabular data is divided by size
    instance_count=2,
    max_concurrency_per_instance=1,
    error_threshold=5,
    mini_batch_error_threshold=5,
    retry_settings=dict(max_retries=2, timeout=60),
    logging_level="DEBUG",
    environment_variables={"AZUREML_PARALLEL_EXAMPLE": "2a_sdk"},
    task=RunFunction(
        code="./script",
        entry_script="iris_prediction.py",
        environment=Environment(
            image="mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04",
            conda_file="./environment/environment_parallel.yml",
        ),
        program_arguments="--model ${{inputs.score_model}} "
        "--allowed_failed_percent 30 "
        "--task_overhead_timeout 1200 "
        "--progress_update_timeout 600 "
        "--resource_monitor_interval 20 ",
        append_row_to="${{outputs.job_output_file}}",
    ),
)

# Declare the inputs of the job.
input_iris_data = Input(path="./neural-iris-mltable", type=AssetTypes.MLTABLE, mode=InputOutputModes.DIRECT)
input_model_folder = Input(path="./iris-model", type=AssetTypes.URI_FOLDER, mode=InputOutputModes.DOWNLOAD)


# Declare pipeline structure.
@pipeline(display_name="parallel job for iris batch inferencing")
def parallel_job_in_pipeline():
    parallel_train = batch_inferencing_with_mini_batch_size(
        input_data=input_iris_data,
        score_model=input_model_folder,
    )
    # run-level settings of the node can be changed where it is called
    parallel_train.resources.instance_count = 2
    parallel_train.max_concurrency_per_instance = 1
    parallel_train.mini_batch_error_threshold = 10
    # As in Azure's notebook: an f-string, so "${{name}}" arrives as "${name}"; both are the job name.
    parallel_train.outputs.job_output_file.path = (
        f"azureml://datastores/workspaceblobstore/paths/${{name}}/my_append_outputaggregated_returns.csv"  # noqa: F541
    )


my_job = parallel_job_in_pipeline()
my_job.tags.update({"owner": "sdkteam"})
my_job.settings.default_compute = "cpu-cluster"

if __name__ == "__main__":
    print(my_job)
    # Azure: pipeline_job = ml_client.jobs.create_or_update(my_job, experiment_name="parallel examples")
    pipeline_job = dask_parallel.run(my_job)
    print(pipeline_job)
    raise SystemExit(0 if pipeline_job.status == "Completed" else 1)
