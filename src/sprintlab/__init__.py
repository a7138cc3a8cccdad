"""sprintlab: will gym strength transfer to 0-10 m sprint speed, and who carries raised hamstring risk - and why."""

__version__ = "0.1.0"
