expectServiceDocument('Notification Service', {
    '/notifications': [],
    '/notifications/stream': [],
    '/health': []
});
