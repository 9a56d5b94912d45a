expectServiceDocument('Auth Service', {
    '/auth/register': [],
    '/auth/login': [],
    '/auth/me': ['get', 'patch'],
    '/auth/me/password': [],
    '/auth/logout': [],
    '/auth/verify': [],
    '/health': []
});
