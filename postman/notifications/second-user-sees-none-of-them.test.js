pm.test('None about the first user\'s tasks', function () {
    const taskId = Number(pm.collectionVariables.get('task_id'));
    const notifications = pm.response.json();
    pm.expect(notifications).to.be.an('array');
    pm.expect(notifications.filter(function (n) { return n.task_id === taskId; })).to.be.empty;
});
