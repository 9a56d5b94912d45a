expectNoTasks();
