function updatesOf(notifications) {
    return notificationsAbout(notifications, 'direct_task_id', 'task_updated');
}

whenNotificationsArrive(function (notifications) {
    return notificationsAbout(notifications, 'direct_task_id', 'task_created').length > 0
        && updatesOf(notifications).length >= 2;
}, function (notifications) {
    expectCreatedNotification(notifications, 'direct_task_id', 'Test Task');
    pm.test('A task_updated notification for each of its updates (PUT and PATCH)', function () {
        const updates = updatesOf(notifications);
        pm.expect(updates).to.have.lengthOf(2);
        updates.forEach(function (n) { pm.expect(n.title).to.eql('Direct title'); });
        const messages = updates.map(function (n) { return n.message; }).join('\n');
        pm.expect(messages).to.include('(status: In Progress)');
        pm.expect(messages).to.include('(status: Completed)');
    });
});
