"""Print the configuration options this Airflow (and its installed providers) knows.

Runs with the environment's own Python. Output: one line "MWAA_KIT_JSON:{"options":
{section: [key, ...]}, "deprecated": {"old_section.old_key": "new_section.new_key"}}".
"""

import json

MARKER = "MWAA_KIT_JSON:"


def main():
    from airflow.configuration import conf

    try:
        from airflow.providers_manager import ProvidersManager

        ProvidersManager().initialize_providers_configuration()
        conf.load_providers_configuration()
    except Exception:  # noqa: BLE001 - older Airflow loads them itself
        pass
    options = {}
    for source in (getattr(conf, "configuration_description", {}) or {},):
        for section, description in source.items():
            keys = (description or {}).get("options", {}) or {}
            options.setdefault(section, set()).update(keys)
    for section in conf.sections():
        options.setdefault(section, set()).update(conf.options(section) if conf.has_section(
            section) else [])
    deprecated = {}
    for (section, key), previous in getattr(conf, "deprecated_options", {}).items():
        old_section, old_key = previous[0], previous[1]
        deprecated[f"{old_section}.{old_key}"] = f"{section}.{key}"
    print(MARKER + json.dumps({"options": {s: sorted(k) for s, k in options.items()},
                               "deprecated": deprecated}))


if __name__ == "__main__":
    main()
