//! TODO(helper): the local advisory database.
