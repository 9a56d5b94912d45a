expectServiceDocument('Task Service', {
    '/tasks': ['get', 'post'],
    '/tasks/{task_id}': ['get', 'put', 'patch', 'delete'],
    '/health': []
});
