function about(notifications, eventType) {
    return notificationsAbout(notifications, 'task_id', eventType);
}

whenNotificationsArrive(function (notifications) {
    return ['task_created', 'task_updated', 'task_deleted'].every(function (eventType) {
        return about(notifications, eventType).length > 0;
    });
}, function (notifications) {
    expectCreatedNotification(notifications, 'task_id', 'Complete project documentation');
    pm.test('Notifications for its update and deletion too', function () {
        pm.expect(about(notifications, 'task_updated'), 'task_updated notifications').to.not.be.empty;
        pm.expect(about(notifications, 'task_deleted'), 'task_deleted notifications').to.not.be.empty;
    });
    pm.test('One for the second task as well', function () {
        pm.expect(notificationsAbout(notifications, 'second_task_id', 'task_created')).to.not.be.empty;
    });
});
