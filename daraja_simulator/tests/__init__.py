"""Tests of the simulator on its own: no database, no project code."""
