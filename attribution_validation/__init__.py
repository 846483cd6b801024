"""The attribution validator (`earshot validate`): how close each attribution model comes to the
true incremental effect of simulated worlds. See docs/user/choosing-a-model.md."""
