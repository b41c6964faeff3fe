"""Many-model training with partition_keys (SDK v2 style), on Dask.

A command component splits the sales table by store and brand into an MLTable; a
parallel job with ``partition_keys=["Store", "Brand"]`` trains one model per partition.
Compared with the Azure ML notebook, only the import prefix (``azure.ai.ml`` ->
``dask_parallel``) and the submit call differ. Run it from this folder:
``python oj_sales_prediction.py``.
"""

import dask_parallel
from dask_parallel import Input, Output, load_component
from dask_parallel.constants import AssetTypes, InputOutputModes
from dask_parallel.dsl import pipeline
from dask_parallel.entities import Environment
from dask_parallel.parallel import RunFunction, parallel_run_function

partition_data = load_component(source="./src/partition_data/partition_data.yml")

many_model_training_with_partition_keys = parallel_run_function(
    name="train_many_models_with_partition_keys",
    display_name="Train Many Models With Partition Keys",
    description="parallel job to train many models with partition_keys on mltable input",
    tags={"azureml_parallel_example": "oj_many-model_sdk"},
    inputs=dict(
        data_source=Input(
            type=AssetTypes.MLTABLE,
            description="Input mltable with predefined partition format.",
            mode=InputOutputModes.DIRECT,  # partition_keys need the MLTable in 'direct' mode
        ),
        drop_cols=Input(type="string", description="Columns to drop before training, comma separated."),
        target_col=Input(type="string", description="The label column."),
        date_col=Input(type="string", description="The date column, for the lagged features."),
        lagging_orders=Input(type="string", description="Lags to add as features, comma separated."),
    ),
    outputs=dict(
        model_perf=Output(type=AssetTypes.URI_FILE, mode=InputOutputModes.RW_MOUNT),
        model_folder=Output(type=AssetTypes.URI_FOLDER, mode=InputOutputModes.RW_MOUNT),
    ),
    input_data="${{inputs.data_source}}",
    partition_keys=["Store", "Brand"],  # one mini-batch per store and brand
    instance_count=2,
    max_concurrency_per_instance=1,
    error_threshold=-1,
    mini_batch_error_threshold=5,
    retry_settings=dict(max_retries=2, timeout=60),
    logging_level="DEBUG",
    environment_variables={"AZUREML_PARALLEL_EXAMPLE": "1a_sdk"},
    task=RunFunction(
        code="./src/parallel_train/",
        entry_script="parallel_train.py",
        environment=Environment(
            image="mcr.microsoft.com/azureml/openmpi3.1.2-ubuntu18.04",
            conda_file="./src/parallel_train/conda.yml",
        ),
        program_arguments="--drop_cols ${{inputs.drop_cols}} "
        "--target_col ${{inputs.target_col}} "
        "--date_col ${{inputs.date_col}} "
        "--lagging_orders ${{inputs.lagging_orders}} "
        "--model_folder ${{outputs.model_folder}} ",
        append_row_to="${{outputs.model_perf}}",
    ),
)

input_oj_data = Input(
    path="./oj_sales_data/oj_sales_data.csv", type=AssetTypes.URI_FILE, mode=InputOutputModes.RO_MOUNT
)


@pipeline(display_name="parallel job for oj many model training")
def partition_job_in_pipeline(pipeline_input_data):
    partition_job = partition_data(data_source=pipeline_input_data, partition_keys="Store,Brand")

    parallel_train = many_model_training_with_partition_keys(
        data_source=partition_job.outputs.tabular_output_data,
        drop_cols="Revenue,Advert,Store,Brand",
        target_col="Quantity",
        date_col="WeekStarting",
        lagging_orders="1,2,3,4,5,6",
    )
    # run-level settings of the node can be changed where it is called
    parallel_train.resources.instance_count = 1
    parallel_train.max_concurrency_per_instance = 2
    parallel_train.mini_batch_error_threshold = 10
    parallel_train.outputs.model_perf.path = (
        f"azureml://datastores/workspaceblobstore/paths/${{name}}/my_append_output.csv"  # noqa: F541
    )


my_job = partition_job_in_pipeline(pipeline_input_data=input_oj_data)
my_job.settings.default_compute = "cpu-cluster"

if __name__ == "__main__":
    print(my_job)
    # Azure: pipeline_job = ml_client.jobs.create_or_update(my_job, experiment_name="parallel examples")
    pipeline_job = dask_parallel.run(my_job)
    print(pipeline_job)
    raise SystemExit(0 if pipeline_job.status == "Completed" else 1)
