const MAX_ATTEMPTS = 20;
const attempt = Number(pm.collectionVariables.get('poll_attempt') || 0);
const taskId = Number(pm.collectionVariables.get('direct_task_id'));
const notifications = pm.response.code === 200 ? pm.response.json() : [];
function find(eventType) {
    return notifications.find(function (n) { return n.task_id === taskId && n.event_type === eventType; });
}
const updates = notifications.filter(function (n) { return n.task_id === taskId && n.event_type === 'task_updated'; });
const arrived = Boolean(find('task_created')) && updates.length >= 2;

if (!arrived && pm.response.code === 200 && attempt + 1 < MAX_ATTEMPTS) {
    // Not there yet: run this same request again (the pre-request script waits 0.5 s first).
    pm.collectionVariables.set('poll_attempt', attempt + 1);
    postman.setNextRequest(pm.info.requestId);
} else {
    pm.collectionVariables.set('poll_attempt', 0);

    pm.test('Every notification has the documented fields', function () {
        pm.expect(notifications).to.be.an('array');
        notifications.forEach(function (n) {
            pm.expect(n).to.include.all.keys('id', 'event_id', 'event_type', 'task_id', 'title', 'message', 'created_at');
            pm.expect(n.created_at).to.match(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);
        });
    });
    pm.test('Newest first', function () {
        for (let i = 1; i < notifications.length; i++) {
            pm.expect(notifications[i - 1].id).to.be.above(notifications[i].id);
        }
    });
    pm.test('A task_created notification for the task', function () {
        const created = find('task_created');
        pm.expect(created, 'task_created notification').to.be.an('object');
        pm.expect(created.title).to.eql('Test Task');
        pm.expect(created.message).to.include('Test Task');
    });
    pm.test('A task_updated notification for each of its updates (PUT and PATCH)', function () {
        pm.expect(updates).to.have.lengthOf(2);
        updates.forEach(function (n) { pm.expect(n.title).to.eql('Direct title'); });
        const messages = updates.map(function (n) { return n.message; }).join('\n');
        pm.expect(messages).to.include('(status: In Progress)');
        pm.expect(messages).to.include('(status: Completed)');
    });
}
