const routes = pm.response.json();
pm.test('Routes every prefix to its service', function () {
    pm.expect(routes).to.be.an('array');
    const services = {};
    routes.forEach(function (route) {
        services[route.prefix] = route.service;
        pm.expect(route.methods).to.include.members(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);
    });
    pm.expect(services).to.include({
        '/auth': 'auth_service',
        '/tasks': 'task_service',
        '/notifications': 'notification_service'
    });
});
pm.test('Does not reveal service addresses', function () {
    pm.expect(pm.response.text()).to.not.match(/https?:\/\//);
});
