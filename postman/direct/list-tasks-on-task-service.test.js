expectOnlyTask('direct_task_id');
