expectHealthy('task_service');
