expectRequestMetrics('/tasks/{task_id}');
