"""Shared test configuration: pytester, for the tests of perfcore's own pytest plugin."""

pytest_plugins = ["pytester"]
