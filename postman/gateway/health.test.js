const body = pm.response.json();
pm.test('Gateway and every service are healthy', function () {
    pm.expect(body.service).to.eql('api_gateway');
    pm.expect(body.status).to.eql('ok');
    pm.expect(body.checks).to.eql({
        auth_service: 'ok',
        task_service: 'ok',
        notification_service: 'ok'
    });
});
pm.test('Includes each service\'s own report', function () {
    ['auth_service', 'task_service', 'notification_service'].forEach(function (service) {
        pm.expect(body.details[service].service).to.eql(service);
        pm.expect(body.details[service].status).to.eql('ok');
    });
});
