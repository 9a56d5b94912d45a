expectTaskList();
