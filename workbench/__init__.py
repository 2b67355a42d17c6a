"""The bureau workbench: server-rendered pages over the same selectors, services and permission layer
as the GraphQL API. Views are thin doors: one service call per action, inside one transaction."""
