"""A realistic club export folder, written from a simulated squad (test fixture).

:func:`write_club_folder` writes what a club's staff would have after a few months: each system's
own export with its own names, units, locale and layout, and athletes known by name, not id:

* ``squad.csv`` - the name register (name <-> player id) with sex, birth date, height, mass;
  ``;``-separated, decimal comma, dates ``dd.mm.yyyy``;
* ``timing_gates/<date>.csv`` - one file per test day, one row per run, splits as columns, ``;`` and
  decimal comma with three decimals (``1,085``);
* ``gps/GPS_<year>-W<week>.csv`` - one file per ISO week, every session incl. gym, durations
  ``hh:mm:ss``, RPE (unless ``with_rpe=False``), dates ``dd/mm/yyyy``;
* ``gym_log.csv`` - one row per set (a warm-up set, then the work sets), ``;`` and decimal comma;
* ``nordbord/NordBord_export.csv`` - VALD Hub NordBord CSV (UTF-8 with BOM), with aborted tests
  (0 reps on both sides);
* ``forcedecks/ForceDecks_CMJ.csv`` - VALD Hub ForceDecks CSV (BW ``-1`` when not weighed,
  asymmetry cells like ``12.3 L``);
* ``imtp.csv`` - the club's own IMTP sheet;
* ``movement_screens.xlsx`` - the staff's screening sheet (Excel dates);
* ``steps/steps_export.csv`` - sprint step kinematics (unless ``with_steps=False``);
* ``wellness_form.csv`` - a Google-Forms-style questionnaire: timestamp, name as typed by the
  athlete, sleep as ``8h37`` / ``8:37`` / ``8.5``;
* ``injury_log.csv`` - onset and return-to-play dates, names.

The club's mapping (``club_mapping.yaml`` beside this module) is written into the folder as
``club_mapping.yaml``, without the step-kinematics table and the RPE columns when those are left
out. Column names of the VALD files are the documented ones (``/work/shared/reference/
vendor-exports.md``); the others are this club's own.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from sprintlab.simulate.generator import simulate_squad

CLUB_MAPPING = Path(__file__).with_name("club_mapping.yaml")
FIRST = [
    "Jonas",
    "Luca",
    "Mateo",
    "Søren",
    "Émile",
    "Noah",
    "Karim",
    "Tiago",
    "Milan",
    "Arda",
    "Oskar",
    "Yann",
]
LAST = ["Müller", "Rossi", "García", "Ødegaard", "Lefèvre", "Schmidt", "Haddad", "Silva", "Novak", "Yılmaz"]
SESSION = {"pitch": "Training", "gym": "Gym", "match": "Match"}
EXERCISE = {"back_squat": "Back Squat", "trap_bar_deadlift": "Trap Bar Deadlift"}
SPLIT_DISTANCES = (5, 10, 20, 30)


@dataclass(frozen=True)
class ClubFolder:
    """The folder written, its mapping file and the simulated contract tables behind it."""

    path: Path
    mapping: Path
    tables: dict[str, pd.DataFrame]
    names: dict[str, str]


def athlete_names(ids: list[str]) -> dict[str, str]:
    """A distinct, deterministic full name per athlete id."""
    return {a: f"{FIRST[i % len(FIRST)]} {LAST[(3 * i) % len(LAST)]}" for i, a in enumerate(ids)}


def _comma(x: float, decimals: int) -> str:
    return f"{x:.{decimals}f}".replace(".", ",")


def _hms(minutes: float) -> str:
    total = int(round(minutes * 60))
    return f"{total // 3600:02d}:{total % 3600 // 60:02d}:{total % 60:02d}"


def _write_csv(df: pd.DataFrame, path: Path, sep: str = ",", bom: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = df.to_csv(index=False, sep=sep, lineterminator="\r\n")
    path.write_bytes(("\ufeff" if bom else "").encode("utf-8") + text.encode("utf-8"))


def _register(t: pd.DataFrame, names: dict[str, str], folder: Path) -> None:
    df = pd.DataFrame(
        {
            "Name": t["athlete_id"].map(names),
            "Player ID": t["athlete_id"],
            "Sex": t["sex"],
            "Date of birth": t["birth_date"].dt.strftime("%d.%m.%Y"),
            "Height (cm)": [_comma(x, 1) for x in t["height_cm"]],
            "Body mass (kg)": [_comma(x, 1) for x in t["body_mass_kg"]],
            "Position": t["position"],
        }
    )
    _write_csv(df, folder / "squad.csv", sep=";")


def _timing_gates(t: pd.DataFrame, names: dict[str, str], folder: Path) -> None:
    wide = t.pivot_table(
        index=["athlete_id", "date", "trial"], columns="distance_m", values="time_s", aggfunc="first"
    )
    wide = wide.reset_index()
    for day, g in wide.groupby("date"):
        df = pd.DataFrame(
            {
                "Athlete": g["athlete_id"].map(names),
                "Date": g["date"].dt.strftime("%d.%m.%Y"),
                "Run": g["trial"].astype(int),
                **{f"{d} m": [_comma(x, 3) for x in g[float(d)]] for d in SPLIT_DISTANCES},
            }
        )
        _write_csv(df, folder / "timing_gates" / f"{day:%Y-%m-%d}.csv", sep=";")


def _gps(t: pd.DataFrame, names: dict[str, str], folder: Path, with_rpe: bool) -> None:
    def num(s: pd.Series, decimals: int) -> list[str]:
        return ["" if pd.isna(x) else f"{x:.{decimals}f}" for x in s]

    t = t.sort_values(["date", "athlete_id", "session_type"])
    iso = t["date"].dt.isocalendar()
    for (year, week), g in t.groupby([iso["year"], iso["week"]]):
        df = pd.DataFrame(
            {
                "Player": g["athlete_id"].map(names),
                "Date": g["date"].dt.strftime("%d/%m/%Y"),
                "Session": g["session_type"].map(SESSION),
                "Duration": g["duration_min"].map(_hms),
                "RPE": num(g["rpe"], 0),
                "Total Distance (m)": num(g["total_distance_m"], 0),
                "HSR Distance (m)": num(g["hsr_distance_m"], 0),
                "Sprint Distance (m)": num(g["sprint_distance_m"], 0),
                "Max Speed (m/s)": num(g["max_speed_m_s"], 2),
            }
        )
        if not with_rpe:
            df = df.drop(columns="RPE")
        _write_csv(df, folder / "gps" / f"GPS_{year}-W{week:02d}.csv")


def _set_rpes(rpe: float, n: int) -> list[float]:
    """Per-set RPE rising over the sets, with the session's mean (symmetric steps of 0.2)."""
    steps = [0.2 * (k - (n - 1) / 2) for k in range(n)]
    if rpe + max(steps) > 10:
        steps = [0.0] * n
    return [round(rpe + s, 1) for s in steps]


def _gym_log(t: pd.DataFrame, names: dict[str, str], folder: Path) -> None:
    rows = []
    for r in t.itertuples(index=False):
        common = {
            "Athlete": names[r.athlete_id],
            "Date": f"{r.date:%d.%m.%Y}",
            "Exercise": EXERCISE[r.exercise],
        }
        warm = np.floor(r.load_kg * 0.5 / 2.5) * 2.5
        rows.append(
            {**common, "Set": 1, "Set type": "Warm-up", "Load (kg)": _comma(warm, 1), "Reps": 8, "RPE": ""}
        )
        for k, rpe in enumerate(_set_rpes(float(r.rpe), int(r.sets)), start=2):
            load = _comma(r.load_kg, 1)
            rows.append(
                {
                    **common,
                    "Set": k,
                    "Set type": "Work",
                    "Load (kg)": load,
                    "Reps": int(r.reps),
                    "RPE": _comma(rpe, 1),
                }
            )
    _write_csv(pd.DataFrame(rows), folder / "gym_log.csv", sep=";")


def _nordbord(t: pd.DataFrame, names: dict[str, str], folder: Path) -> None:
    nb = t[t["test"] == "nordic_eccentric"].pivot_table(
        index=["athlete_id", "date"], columns="side", values="value", aggfunc="first"
    )
    rows = []
    for (a, day), r in nb.iterrows():
        base = {
            "Name": names[a],
            "Date UTC": f"{day:%d/%m/%Y}",
            "Time UTC (12 h)": "9:15 AM",
            "Device": "NordBord",
        }
        imb = 100 * abs(r["left"] - r["right"]) / max(r["left"], r["right"])
        if len(rows) % 9 == 4:  # an aborted attempt before the test: no rep on either side
            rows.append(
                {
                    **base,
                    "Time UTC (12 h)": "9:05 AM",
                    "Test": "Nordic",
                    "L Reps": 0,
                    "R Reps": 0,
                    "L Max Force (N)": "0.0",
                    "R Max Force (N)": "0.0",
                    "Max Imbalance (%)": "",
                    "L Avg Force (N)": "0.0",
                    "R Avg Force (N)": "0.0",
                }
            )
        rows.append(
            {
                **base,
                "Test": "Nordic",
                "L Reps": 3,
                "R Reps": 3,
                "L Max Force (N)": f"{r['left']:.1f}",
                "R Max Force (N)": f"{r['right']:.1f}",
                "Max Imbalance (%)": f"{imb:.1f}",
                "L Avg Force (N)": f"{0.9 * r['left']:.1f}",
                "R Avg Force (N)": f"{0.9 * r['right']:.1f}",
            }
        )
    _write_csv(pd.DataFrame(rows), folder / "nordbord" / "NordBord_export.csv", bom=True)


def _forcedecks(t: pd.DataFrame, ath: pd.DataFrame, names: dict[str, str], folder: Path) -> None:
    cmj = t[t["test"] == "cmj_height"].reset_index(drop=True)
    mass = ath.set_index("athlete_id")["body_mass_kg"]
    df = pd.DataFrame(
        {
            "Name": cmj["athlete_id"].map(names),
            "ExternalId": "",
            "Test Type": "CMJ",
            "Date": cmj["date"].dt.strftime("%d/%m/%Y"),
            "Time": "10:02 AM",
            "BW [KG]": [("-1" if i % 7 == 3 else f"{mass[a]:.1f}") for i, a in enumerate(cmj["athlete_id"])],
            "Reps": 3,
            "Tags": "",
            "Jump Height (Imp-Mom) [cm]": [f"{x:.1f}" for x in cmj["value"]],
            "RSI-modified [m/s] ": [f"{0.012 * x:.2f}" for x in cmj["value"]],
            "Eccentric Braking RFD % (Asym) (%)": [
                f"{(i * 3.7) % 15:.1f} {'LR'[i % 2]}" for i in range(len(cmj))
            ],
        }
    )
    _write_csv(df, folder / "forcedecks" / "ForceDecks_CMJ.csv")


def _imtp(t: pd.DataFrame, names: dict[str, str], folder: Path) -> None:
    imtp = t[t["test"] == "imtp"]
    df = pd.DataFrame(
        {
            "Athlete": imtp["athlete_id"].map(names),
            "Date": imtp["date"].dt.strftime("%Y-%m-%d"),
            "IMTP peak force (N)": [f"{x:.0f}" for x in imtp["value"]],
        }
    )
    _write_csv(df, folder / "imtp.csv")


def _screens(t: pd.DataFrame, names: dict[str, str], folder: Path) -> None:
    df = pd.DataFrame(
        {
            "Athlete": t["athlete_id"].map(names),
            "Date": t["date"],
            "Pelvic control (1-5)": t["pelvic_control_score"],
            "Trunk control (1-5)": t["trunk_control_score"],
            "Notes": "",
        }
    )
    df.to_excel(folder / "movement_screens.xlsx", index=False)


def _steps(t: pd.DataFrame, names: dict[str, str], folder: Path) -> None:
    df = pd.DataFrame(
        {
            "Athlete": t["athlete_id"].map(names),
            "Date": t["date"].dt.strftime("%d.%m.%Y"),
            "Trial": t["trial"],
            "Step": t["step"],
            "Foot": t["side"].map({"left": "L", "right": "R"}),
            "Contact time (ms)": [f"{x:.0f}" for x in t["contact_time_ms"]],
            "Flight time (ms)": [f"{x:.0f}" for x in t["flight_time_ms"]],
            "Step length (m)": [_comma(x, 2) for x in t["step_length_m"]],
            "Touchdown distance (m)": [_comma(x, 3) for x in t["touchdown_distance_m"]],
        }
    )
    _write_csv(df, folder / "steps" / "steps_export.csv", sep=";")


def _sleep_text(hours: float, i: int) -> str:
    h, m = int(hours), int(round((hours - int(hours)) * 60))
    return (f"{h}h{m:02d}", f"{h}:{m:02d}", f"{hours:.1f}")[i % 3]


def _wellness(t: pd.DataFrame, names: dict[str, str], folder: Path) -> None:
    typed = [names[a].lower() if i % 5 == 0 else names[a] for i, a in enumerate(t["athlete_id"])]
    minutes = [7 * 60 + (i * 7) % 50 for i in range(len(t))]
    df = pd.DataFrame(
        {
            "Timestamp": [
                f"{d:%d/%m/%Y} {m // 60:02d}:{m % 60:02d}:13" for d, m in zip(t["date"], minutes, strict=True)
            ],
            "Your name": typed,
            "How long did you sleep?": [_sleep_text(x, i) for i, x in enumerate(t["sleep_hours"])],
            "Sleep quality (0-10)": t["sleep_quality"].map("{:.0f}".format),
            "Fatigue (0-10)": t["fatigue"].map("{:.0f}".format),
            "Muscle soreness (0-10)": t["soreness"].map("{:.0f}".format),
            "Stress (0-10)": t["stress"].map("{:.0f}".format),
            "Mood (0-10)": t["mood"].map("{:.0f}".format),
            "Hamstring tightness (0-10)": t["hamstring_tightness"].map("{:.0f}".format),
        }
    )
    _write_csv(df, folder / "wellness_form.csv")


def _injuries(t: pd.DataFrame, names: dict[str, str], folder: Path) -> None:
    back = [d + dt.timedelta(days=int(n)) for d, n in zip(t["onset_date"], t["days_lost"], strict=True)]
    df = pd.DataFrame(
        {
            "Player": t["athlete_id"].map(names),
            "Date of injury": t["onset_date"].dt.strftime("%d.%m.%Y"),
            "Body part": t["body_part"].str.capitalize(),
            "Side": t["side"].map({"left": "L", "right": "R", "both": "B"}),
            "Return to play": [f"{d:%d.%m.%Y}" for d in back],
            "Mechanism": t["mechanism"],
        }
    )
    _write_csv(df, folder / "injury_log.csv", sep=";")


def club_mapping(with_steps: bool = True, with_rpe: bool = True) -> dict:
    """The club's mapping (``club_mapping.yaml``), without the tables or columns left out."""
    m = yaml.safe_load(CLUB_MAPPING.read_text(encoding="utf-8"))
    if not with_steps:
        m["tables"] = [e for e in m["tables"] if e["table"] != "sprint_steps"]
    if not with_rpe:
        for e in m["tables"]:
            if e["table"] == "training_load":
                e["columns"].pop("rpe")
    return m


def write_club_folder(
    folder: Path,
    n_athletes: int = 12,
    n_weeks: int = 20,
    seed: int = 11,
    *,
    with_steps: bool = True,
    with_rpe: bool = True,
) -> ClubFolder:
    """Write the club's export folder for a simulated squad (see the module docstring)."""
    tables = simulate_squad(n_athletes, n_weeks, seed).tables
    folder.mkdir(parents=True, exist_ok=True)
    names = athlete_names(list(tables["athletes"]["athlete_id"]))
    _register(tables["athletes"], names, folder)
    _timing_gates(tables["sprint_splits"], names, folder)
    _gps(tables["training_load"], names, folder, with_rpe)
    _gym_log(tables["gym_sets"], names, folder)
    _nordbord(tables["strength_tests"], names, folder)
    _forcedecks(tables["strength_tests"], tables["athletes"], names, folder)
    _imtp(tables["strength_tests"], names, folder)
    _screens(tables["movement_screens"], names, folder)
    if with_steps:
        _steps(tables["sprint_steps"], names, folder)
    _wellness(tables["wellness"], names, folder)
    _injuries(tables["injuries"], names, folder)
    mapping = folder / "club_mapping.yaml"
    mapping.write_text(
        yaml.safe_dump(club_mapping(with_steps, with_rpe), sort_keys=False, allow_unicode=True)
    )
    return ClubFolder(folder, mapping, tables, names)
