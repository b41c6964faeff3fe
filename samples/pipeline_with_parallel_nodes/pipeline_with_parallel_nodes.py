"""A pipeline with parallel nodes (SDK v2): prepare data, then score files and a table.

``prepare_file_tabular_data`` (a command component) copies the input CSV files into two
MLTable outputs; ``batch_inference_with_file_data`` processes them as files and
``batch_inference_with_tabular_data`` scores them as a table with a model.

Compared with the Azure ML notebook only the import prefix (``azure.ai.ml`` ->
``dask_parallel``) and the submit call differ; the workspace, credential and compute cells
are gone. Run it from this folder: ``python pipeline_with_parallel_nodes.py``.
"""

import dask_parallel
from dask_parallel import Input, Output, load_component
from dask_parallel.constants import AssetTypes, InputOutputModes
from dask_parallel.dsl import pipeline
from dask_parallel.entities import Environment
from dask_parallel.parallel import RunFunction, parallel_run_function

# load component
# The data, model and entry scripts are those of conf/examples/pipeline (the migration
# example of the same pipeline); only this script and its environment file are the sample's own.
SHARED = "../../conf/examples/pipeline"

prepare_data = load_component(source=f"{SHARED}/src/prepare_data.yml")

# parallel task to process file data
file_batch_inference = parallel_run_function(
    name="file_batch_score",
    display_name="Batch Score with File Dataset",
    description="parallel component for batch score",
    inputs=dict(
        job_data_path=Input(
            type=AssetTypes.MLTABLE,
            description="The data to be split and scored in parallel",
        )
    ),
    outputs=dict(job_output_path=Output(type=AssetTypes.MLTABLE)),
    input_data="${{inputs.job_data_path}}",
    instance_count=2,
    max_concurrency_per_instance=1,
    mini_batch_size="1",
    mini_batch_error_threshold=1,
    retry_settings=dict(max_retries=2, timeout=60),
    logging_level="DEBUG",
    task=RunFunction(
        code=f"{SHARED}/src",
        entry_script="file_batch_inference.py",
        program_arguments="--job_output_path ${{outputs.job_output_path}}",
        environment="azureml://registries/azureml/environments/sklearn-1.5/labels/latest",
    ),
)

# parallel task to process tabular data
tabular_batch_inference = parallel_run_function(
    name="batch_score_with_tabular_input",
    display_name="Batch Score with Tabular Dataset",
    description="parallel component for batch score",
    inputs=dict(
        job_data_path=Input(
            type=AssetTypes.MLTABLE,
            description="The data to be split and scored in parallel",
        ),
        score_model=Input(type=AssetTypes.URI_FOLDER, description="The model for batch score."),
    ),
    outputs=dict(job_output_path=Output(type=AssetTypes.MLTABLE)),
    input_data="${{inputs.job_data_path}}",
    instance_count=2,
    max_concurrency_per_instance=1,
    mini_batch_size="100",
    mini_batch_error_threshold=5,
    logging_level="DEBUG",
    retry_settings=dict(max_retries=2, timeout=60),
    task=RunFunction(
        code=f"{SHARED}/src",
        entry_script="tabular_batch_inference.py",
        environment=Environment(
            image="mcr.microsoft.com/azureml/openmpi5.0-ubuntu24.04:latest",
            conda_file="./environment_parallel.yml",
        ),
        program_arguments="--model ${{inputs.score_model}} "
        "--job_output_path ${{outputs.job_output_path}} "
        "--error_threshold 5 "
        "--allowed_failed_percent 30 "
        "--task_overhead_timeout 1200 "
        "--progress_update_timeout 600 "
        "--first_task_creation_timeout 600 "
        "--copy_logs_to_parent True "
        "--resource_monitor_interval 20 ",
        append_row_to="${{outputs.job_output_path}}",
    ),
)


@pipeline()
def parallel_in_pipeline(pipeline_job_data_path, pipeline_score_model):
    prepare_file_tabular_data = prepare_data(input_data=pipeline_job_data_path)
    # output of file & tabular data should be type MLTable
    prepare_file_tabular_data.outputs.file_output_data.type = AssetTypes.MLTABLE
    prepare_file_tabular_data.outputs.tabular_output_data.type = AssetTypes.MLTABLE

    batch_inference_with_file_data = file_batch_inference(
        job_data_path=prepare_file_tabular_data.outputs.file_output_data
    )
    # use eval_mount mode to handle file data
    batch_inference_with_file_data.inputs.job_data_path.mode = InputOutputModes.EVAL_MOUNT
    batch_inference_with_file_data.outputs.job_output_path.type = AssetTypes.MLTABLE

    batch_inference_with_tabular_data = tabular_batch_inference(
        job_data_path=prepare_file_tabular_data.outputs.tabular_output_data,
        score_model=pipeline_score_model,
    )
    # use direct mode to handle tabular data
    batch_inference_with_tabular_data.inputs.job_data_path.mode = InputOutputModes.DIRECT

    return {
        "pipeline_job_out_file": batch_inference_with_file_data.outputs.job_output_path,
        "pipeline_job_out_tabular": batch_inference_with_tabular_data.outputs.job_output_path,
    }


pipeline_job_data_path = Input(
    path=f"{SHARED}/dataset/", type=AssetTypes.MLTABLE, mode=InputOutputModes.RO_MOUNT
)
pipeline_score_model = Input(
    path=f"{SHARED}/model/", type=AssetTypes.URI_FOLDER, mode=InputOutputModes.DOWNLOAD
)
# create a pipeline
pipeline_job = parallel_in_pipeline(
    pipeline_job_data_path=pipeline_job_data_path,
    pipeline_score_model=pipeline_score_model,
)
pipeline_job.outputs.pipeline_job_out_tabular.type = AssetTypes.URI_FILE

# set pipeline level compute
pipeline_job.settings.default_compute = "cpu-cluster"

if __name__ == "__main__":
    print(pipeline_job)
    # Azure: ml_client.jobs.create_or_update(pipeline_job, experiment_name="pipeline_samples")
    result = dask_parallel.run(pipeline_job)
    print(result)
    raise SystemExit(0 if result.status == "Completed" else 1)
