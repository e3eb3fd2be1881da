"""Stage plugins. A stage is a class registered under the `ignition.stages`
entry point group; see base.Stage for the contract."""
