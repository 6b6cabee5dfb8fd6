"""Use cases. Each service function takes a unit of work and an actor, checks the actor's
role, commits through the unit of work, and returns read schemas (never ORM objects)."""
