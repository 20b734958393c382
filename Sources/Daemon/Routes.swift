/// The whole Engine API router: every area's routes over one engine.
public func engineRouter(_ engine: Engine) -> Router {
    var router = Router()
    SystemRoutes.add(to: &router, engine: engine)
    EventRoutes.add(to: &router, engine: engine)
    ContainerRoutes.add(to: &router, engine: engine)
    ContainerLifecycleRoutes.add(to: &router, engine: engine)
    ContainerOutputRoutes.add(to: &router, engine: engine)
    ContainerInspectRoute.add(to: &router, engine: engine)
    ContainerControlRoutes.add(to: &router, engine: engine)
    ArchiveRoutes.add(to: &router, engine: engine)
    ExecRoutes.add(to: &router, engine: engine)
    ImageRoutes.add(to: &router, engine: engine)
    ImageArchiveRoutes.add(to: &router, engine: engine)
    ImageChangeRoutes.add(to: &router, engine: engine)
    ImageMakingRoutes.add(to: &router, engine: engine)
    BuildRoutes.add(to: &router, engine: engine)
    VolumeRoutes.add(to: &router, engine: engine)
    NetworkRoutes.add(to: &router, engine: engine)
    PruneRoutes.add(to: &router, engine: engine)
    return router
}
