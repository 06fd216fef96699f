"""Scripts run by the environment's own Python (they import Airflow, never the kit)."""
