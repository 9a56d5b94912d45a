// Notifications arrive asynchronously (task service -> RabbitMQ -> notification service).
// On a retry (see the tests), wait a little before asking again.
if (Number(pm.collectionVariables.get('poll_attempt') || 0) > 0) {
    setTimeout(function () {}, 500);
}
