"""Print the state of a DAG run and its tasks as one JSON line.

Runs with the environment's own Python (the kit is not installed there), so it may
import only Airflow. Usage: python run_states.py DAG_ID [RUN_ID]  (latest run if omitted)
"""

import json
import sys

from airflow.models.dag import DagModel
from airflow.models.dagrun import DagRun
from airflow.models.taskinstance import TaskInstance
from airflow.utils.session import create_session

MARKER = "MWAA_KIT_JSON:"


def main(dag_id, run_id=None):
    """Print MARKER and the JSON of the run (the latest when `run_id` is None) and its tasks;
    `state` is None when there is no run yet, `paused` and `fileloc` (the DAG's file) None
    when the DAG is not parsed yet."""
    with create_session() as session:
        model = session.query(DagModel).filter(DagModel.dag_id == dag_id).one_or_none()
        paused = None if model is None else bool(model.is_paused)  # None: not parsed yet
        fileloc = None if model is None else model.fileloc
        query = session.query(DagRun).filter(DagRun.dag_id == dag_id)
        if run_id:
            query = query.filter(DagRun.run_id == run_id)
        run = query.order_by(DagRun.id.desc()).first()
        if run is None:
            print(MARKER + json.dumps({"dag_id": dag_id, "run_id": run_id, "state": None,
                                       "paused": paused, "fileloc": fileloc, "tasks": []}))
            return
        instances = (
            session.query(TaskInstance)
            .filter(TaskInstance.dag_id == dag_id, TaskInstance.run_id == run.run_id)
            .order_by(TaskInstance.start_date.is_(None), TaskInstance.start_date,
                      TaskInstance.task_id)
            .all()
        )
        print(MARKER + json.dumps({
            "dag_id": dag_id,
            "run_id": run.run_id,
            "state": str(run.state) if run.state else None,
            "paused": paused,
            "fileloc": fileloc,
            "data_interval_end": run.data_interval_end.isoformat()
            if run.data_interval_end else None,
            "tasks": [
                {"task_id": ti.task_id, "map_index": ti.map_index,
                 "state": str(ti.state) if ti.state else None, "try_number": ti.try_number,
                 "hostname": ti.hostname}
                for ti in instances
            ],
        }))


if __name__ == "__main__":
    main(*sys.argv[1:3])
